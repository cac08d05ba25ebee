/**
 * `/docs`: the API reference as one self-contained HTML page, rendered on the server from the OpenAPI
 * document. No script, no CDN, no download: operations are grouped by tag, each a `<details>` with its access
 * rule, parameters, request body and responses (schemas as JSON). Its CSP allows exactly its own stylesheet,
 * by hash. Every piece of text from the document is HTML-escaped.
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from './openapi.js';

const CSS = `
body{font:14px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
main{max-width:1100px;margin:0 auto;padding:16px 24px}h2{margin-top:32px;border-bottom:1px solid #d5d9e0}
details{background:#fff;border:1px solid #d5d9e0;border-radius:6px;margin:8px 0}
summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:baseline}
.m{font:600 12px monospace;padding:2px 6px;border-radius:4px;color:#fff;min-width:52px;text-align:center}
.get{background:#2f6fd6}.post{background:#1f9d55}.put{background:#b7791f}.patch{background:#805ad5}.delete{background:#c53030}
.p{font-family:monospace}.s{color:#5a6270}.body{padding:0 16px 12px}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #e2e5ea;padding:4px 8px;text-align:left;vertical-align:top}
pre{background:#f0f2f5;padding:8px;overflow:auto;max-height:320px;font-size:12px}code{font-size:12px}
`;

/** The `Content-Security-Policy` of the page: nothing but its own inline stylesheet. */
export const DOCS_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const obj = (value: unknown): JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
const json = (value: unknown): string => `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;

function parametersTable(parameters: unknown): string {
  if (!Array.isArray(parameters) || parameters.length === 0) return '';
  const rows = parameters
    .map((raw) => {
      const p = obj(raw);
      return `<tr><td><code>${escapeHtml(str(p.name))}</code></td><td>${escapeHtml(str(p.in))}</td><td>${
        p.required === true ? 'yes' : 'no'
      }</td><td><code>${escapeHtml(JSON.stringify(p.schema))}</code></td></tr>`;
    })
    .join('');
  return `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>${rows}</table>`;
}

function responses(value: unknown): string {
  const items = Object.entries(obj(value)).map(([status, raw]) => {
    const response = obj(raw);
    const ref = str(response.$ref);
    if (ref !== '')
      return `<li><b>${escapeHtml(status)}</b> <span class="s">error shape (${escapeHtml(ref.split('/').pop() ?? '')})</span></li>`;
    const content = obj(response.content);
    const schema = obj(content['application/json']).schema;
    return `<li><b>${escapeHtml(status)}</b> ${escapeHtml(str(response.description))}${schema === undefined ? '' : json(schema)}</li>`;
  });
  return `<h4>Responses</h4><ul>${items.join('')}</ul>`;
}

function operationHtml(method: string, path: string, op: JsonObject): string {
  const access = obj(op['x-kisjobs-access']);
  const rule =
    access.public === true
      ? 'public'
      : `${escapeHtml(str(access.action))}${str(access.scene) === 'none' ? '' : ` within the scene (${escapeHtml(str(access.scene))})`}`;
  const body = obj(obj(obj(op.requestBody).content)['application/json']).schema;
  return `<details id="${escapeHtml(str(op.operationId))}"><summary><span class="m ${escapeHtml(method)}">${escapeHtml(
    method.toUpperCase(),
  )}</span><span class="p">${escapeHtml(path)}</span><span class="s">${escapeHtml(str(op.summary))}</span></summary><div class="body">${
    str(op.description) === '' ? '' : `<p>${escapeHtml(str(op.description))}</p>`
  }<p>Access: <b>${rule}</b> · operation <code>${escapeHtml(str(op.operationId))}</code></p>${parametersTable(op.parameters)}${
    body === undefined ? '' : `<h4>Request body (application/json)</h4>${json(body)}`
  }${responses(op.responses)}</div></details>`;
}

export function renderDocsPage(document: JsonObject): string {
  const info = obj(document.info);
  const byTag = new Map<string, string[]>();
  for (const [path, rawItem] of Object.entries(obj(document.paths))) {
    for (const [method, rawOp] of Object.entries(obj(rawItem))) {
      const op = obj(rawOp);
      const tag = Array.isArray(op.tags) && typeof op.tags[0] === 'string' ? op.tags[0] : 'other';
      const list = byTag.get(tag) ?? [];
      list.push(operationHtml(method, path, op));
      byTag.set(tag, list);
    }
  }
  const sections = [...byTag.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([tag, ops]) =>
        `<section><h2 id="tag-${escapeHtml(tag)}">${escapeHtml(tag)}</h2>${ops.join('')}</section>`,
    )
    .join('');
  const nav = [...byTag.keys()]
    .sort()
    .map((tag) => `<a href="#tag-${escapeHtml(tag)}">${escapeHtml(tag)}</a>`)
    .join(' · ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(
    str(info.title),
  )} API reference</title><style>${CSS}</style></head><body><header><h1>${escapeHtml(str(info.title))} ${escapeHtml(
    str(info.version),
  )}</h1></header><main><p>${escapeHtml(str(info.description))}</p><p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> · ${nav}</p>${sections}</main></body></html>`;
}
