/**
 * The HTML report's look, and the few helpers every part of the page shares: escaping, break
 * points in identifiers, status badges. The stylesheet is inline and its hash is the only style
 * the page's Content-Security-Policy allows: no script, no request, no other style can run.
 */
import { createHash } from 'node:crypto';
import { printable, shellQuote } from '../util/shell.js';

/**
 * Text for the page: made printable first (a newline or U+202E in a name shown as `\u{202e}`, so
 * a VM's creator cannot reorder or split what the page shows), then HTML-escaped.
 */
export function escapeHtml(text: string): string {
  return printable(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;

/**
 * An identifier (a host, a path, a UUID, a status) escaped, with break opportunities after its
 * separators and between camel-case words, so that a narrow column wraps it at a sensible point
 * (`vcenter.<wbr>example.<wbr>com`, `NeedFurther<wbr>Confirmation`), never in the middle of a word.
 */
export function breakable(text: string): string {
  return e(text)
    .replace(/(?<=\w)([./_:@=-])(?=\w)/g, '$1<wbr>')
    .replace(/([a-z])([A-Z])/g, '$1<wbr>$2');
}

export const status = (s: string): string => `<span class="s s-${e(s)}">${breakable(s)}</span>`;
export const cell = (label: string, html: string): string => `<td data-label="${e(label)}">${html}</td>`;
export const code = (text: string): string => `<code>${breakable(text)}</code>`;

/**
 * A command, quoted for a shell, each argument unbreakable unless it is wider than the page: a
 * narrow screen wraps between arguments (`--cert=...` stays whole), and the text copies as typed.
 */
export function commandHtml(command: string[]): string {
  return `<pre>${command.map((arg) => `<span class="a">${e(shellQuote(arg))}</span>`).join(' ')}</pre>`;
}

export const CSS = `
:root{--red:#b3261e;--yellow:#8a6100;--cyan:#00677d;--green:#1e6b32;--line:#d0d4d9;--soft:#f4f5f7;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
body{margin:0 auto;max-width:72rem;padding:.8rem 1rem;color:#1b1f24;line-height:1.35;overflow-wrap:break-word}
h1{font-size:1.3rem;margin:0}h2{font-size:1.15rem;border-bottom:2px solid var(--line);padding-bottom:.15rem;margin:1.4rem 0 .5rem}
h3{font-size:1rem;margin:1rem 0 .3rem}summary h3{display:inline;margin:0}
.meta{color:#555;font-size:.85rem;margin:.2rem 0}
.verdict{border-left:.45rem solid var(--green);background:var(--soft);padding:.5rem .8rem;margin:.6rem 0}
.verdict.v-ManualRemediationRequired{border-color:var(--red)}.verdict.v-NeedFurtherConfirmation,.verdict.v-NeedFurtherConfirmationInfraMachines{border-color:var(--yellow)}
.verdict.v-ManualRemediationNotRequired{border-color:var(--cyan)}
.verdict p{margin:.15rem 0}.verdict .big{font-size:1.25rem;font-weight:700}
.todo{margin:.3rem 0;padding-left:1.4rem}.todo>li{margin:.35rem 0}
.first{color:#333;font-size:.9rem}
.counts{display:flex;flex-wrap:wrap;gap:.3rem .4rem;margin:.5rem 0;padding:0;list-style:none;font-size:.85rem}
.counts>li,.counts>.count{border:1px solid var(--line);border-radius:.3rem;padding:.1rem .45rem}.counts b{font-size:1rem}.count b{margin-right:.25rem}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.3rem 0 .6rem}
th,td{border-bottom:1px solid var(--line);padding:.25rem .4rem;text-align:left;vertical-align:top}
.s{font-weight:600}
.s-Ghost,.s-ManualRemediationRequired,.s-error{color:var(--red)}
.s-Unknown,.s-NeedFurtherConfirmation,.s-NeedFurtherConfirmationInfraMachines,.s-warning{color:var(--yellow)}
.s-Stale,.s-ManualRemediationNotRequired{color:var(--cyan)}.s-Healthy{color:var(--green)}
details.cluster{border:1px solid var(--line);border-radius:.4rem;padding:.3rem .6rem;margin:.4rem 0}
details>summary{cursor:pointer}details.healthy>summary{color:#555;font-size:.88rem}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem}
pre{background:var(--soft);padding:.3rem .4rem;white-space:pre-wrap;margin:.15rem 0}pre .a{display:inline-block;max-width:100%;overflow-wrap:anywhere}
ol{padding-left:1.3rem}
@media (max-width:40rem){body{padding:.5rem}thead{display:none}tr{display:block;border-bottom:2px solid var(--line);padding:.3rem 0}
td{display:block;border:0;padding:.1rem 0}td[data-label]::before{content:attr(data-label) ": ";font-weight:600}}
@media print{body{max-width:none;font-size:10pt}h2{break-after:avoid}tr,li{break-inside:avoid}pre{background:none;border:1px solid var(--line)}
details::details-content{content-visibility:visible;display:block}details>summary{list-style:none}}
`;

/**
 * No script, no frame, no request of any kind; only this stylesheet (by its hash) and inline
 * images. A VM name that slips past escaping still cannot run.
 */
export const CONTENT_SECURITY_POLICY =
  `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; img-src data:; ` +
  "base-uri 'none'; form-action 'none'";
