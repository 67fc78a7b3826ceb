/* SIPROC editor: the texts the editor shows (status line, problems list, side panel headings). */

export const MSG = {
  loading: 'Cargando el diagrama…',
  loaded: 'Diagrama cargado.',
  noLibrary: 'No se pudo cargar el editor de diagramas (bpmn-js). Recargue la página.',
  noDescriptor: 'No se pudo cargar la definición de las extensiones de SpiffWorkflow. Recargue la página.',
  noXml: 'No se pudo obtener el diagrama del servidor',
  badXml: 'El diagrama no se pudo abrir: ',
  importWarnings: 'El diagrama se abrió con advertencias: ',
  dropped: 'El diagrama contiene contenido que este editor no reconoce y que se perdería al guardar: ',
  droppedTail: '. Guardar y Publicar quedan desactivados para no perder datos; edite este archivo con SpiffArena ' +
    'o un editor de texto.',
  saving: 'Guardando el borrador…',
  validating: 'Validando el diagrama…',
  publishing: 'Publicando una nueva versión…',
  savedDefault: 'Borrador guardado.',
  validDefault: 'El diagrama no tiene problemas.',
  publishedDefault: 'Versión publicada.',
  failedDefault: 'La operación no se completó.',
  network: 'No se pudo conectar con el servidor. Compruebe la conexión e inténtelo de nuevo; ' +
    'los cambios siguen en el editor.',
  exportFailed: 'No se pudo generar el XML del diagrama: ',
  localCopy: 'Descargar una copia local del diagrama',
  busy: 'Espere a que termine la operación en curso.',
  unsavedDownload: 'Hay cambios sin guardar: la descarga contiene el último borrador guardado.',
  unsavedTitle: 'Hay cambios sin guardar',
  noProblems: 'Sin problemas.',
  problemsTitle: 'Problemas',
  fileProblem: 'archivo',
  panelTitle: 'Propiedades',
  panelHint: 'Seleccione un elemento del diagrama para ver y editar sus propiedades.',
  panelMany: ' elementos seleccionados. Seleccione uno solo para editarlo.',
  defaultNoCondition: 'Se quitó la condición: el camino por defecto no la necesita.',
  applyFailed: 'No se pudo aplicar el cambio: ',
  droppedLine: 'línea'
};

/** What a non-JSON answer of the server means, by HTTP status (anything else: httpFallback). */
export const HTTP_MSG = {
  400: 'El servidor rechazó la solicitud (HTTP 400). Si la página llevaba mucho tiempo abierta, la sesión ' +
    'pudo caducar: descargue una copia local y recargue la página.',
  401: 'Su sesión terminó (HTTP 401). Descargue una copia local, vuelva a iniciar sesión y cárguela de nuevo.',
  403: 'No tiene permiso para esta operación o su sesión caducó (HTTP 403).',
  404: 'El servidor no encontró el diagrama (HTTP 404).',
  409: 'El diagrama cambió en el servidor mientras lo editaba (HTTP 409). Recargue la página.',
  413: 'El diagrama es demasiado grande para el servidor (HTTP 413).'
};

export function httpFallback(status) {
  return 'El servidor respondió con un error (HTTP ' + status + '). No se guardó nada; inténtelo de nuevo.';
}

/** The element type shown at the top of the side panel. */
export const TYPE_LABELS = {
  'bpmn:Task': 'Tarea',
  'bpmn:UserTask': 'Tarea de usuario',
  'bpmn:ScriptTask': 'Tarea de script',
  'bpmn:ServiceTask': 'Tarea de servicio',
  'bpmn:ManualTask': 'Tarea manual',
  'bpmn:SendTask': 'Tarea de envío',
  'bpmn:ReceiveTask': 'Tarea de recepción',
  'bpmn:BusinessRuleTask': 'Tarea de regla de negocio',
  'bpmn:CallActivity': 'Actividad de llamada (subproceso)',
  'bpmn:SubProcess': 'Subproceso',
  'bpmn:StartEvent': 'Evento de inicio',
  'bpmn:EndEvent': 'Evento de fin',
  'bpmn:IntermediateCatchEvent': 'Evento intermedio (espera)',
  'bpmn:IntermediateThrowEvent': 'Evento intermedio',
  'bpmn:BoundaryEvent': 'Evento de borde',
  'bpmn:ExclusiveGateway': 'Compuerta exclusiva',
  'bpmn:ParallelGateway': 'Compuerta paralela',
  'bpmn:InclusiveGateway': 'Compuerta inclusiva',
  'bpmn:EventBasedGateway': 'Compuerta basada en eventos',
  'bpmn:SequenceFlow': 'Flujo de secuencia',
  'bpmn:MessageFlow': 'Flujo de mensaje',
  'bpmn:Lane': 'Carril',
  'bpmn:Participant': 'Piscina (participante)',
  'bpmn:TextAnnotation': 'Anotación',
  'bpmn:Group': 'Grupo',
  'bpmn:DataObjectReference': 'Objeto de datos',
  'bpmn:DataStoreReference': 'Almacén de datos'
};
