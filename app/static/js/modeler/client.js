/* SIPROC: the network client of the diagram editor and viewer (same-origin fetch, CSRF token, JSON answers).
 * Shared by modeler/main.js and viewer.js. It knows nothing about texts: callers turn errors into messages. */

/** GET a diagram (or any text); rejects with Error('HTTP <status>') or the network error. */
export async function fetchText(url) {
  var response = await fetch(url, {
    credentials: 'same-origin',
    headers: { 'Accept': 'application/xml, text/xml, */*' }
  });
  if (!response.ok) {
    throw new Error('HTTP ' + response.status);
  }
  return response.text();
}

/** GET a JSON document (the moddle descriptors); rejects like fetchText. */
export async function fetchJson(url) {
  var response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) {
    throw new Error('HTTP ' + response.status);
  }
  return response.json();
}

/**
 * POST a JSON body with the CSRF token. Never rejects. Answers one of:
 *   { data }                     the server's JSON answer ({ "ok": true|false, ... })
 *   { error: 'network' }         the request did not reach the server
 *   { error: 'http', status }    the answer was not the JSON of the contract (an HTML error page, ...)
 */
export async function postJson(url, body, csrfToken) {
  var response;
  try {
    response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        'Accept': 'application/json',
        'X-CSRFToken': csrfToken || ''
      },
      body: JSON.stringify(body)
    });
  } catch (err) {
    return { error: 'network' };
  }
  var data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (!data || typeof data !== 'object' || typeof data.ok !== 'boolean') {
    return { error: 'http', status: response.status };
  }
  return { data: data };
}
