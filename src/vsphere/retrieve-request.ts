/**
 * The property-collector requests of the inventory walk, written by hand rather than through
 * `soap`: their answers are parsed as they stream in (retrieve-response.ts), which `soap` cannot
 * do. Envelope, element order and namespaces as govmomi sends them (vmware/govmomi: vim25/types
 * `RetrievePropertiesExRequestType`, the ObjectSpec of view `ContainerView.Retrieve`).
 */
import { VIM25_VERSION } from './vim25-wsdl.js';
import type { MoRef } from './wire.js';

/** `PropertySpec`: which properties to read from objects of one type. */
export interface PropertySpec {
  type: string;
  pathSet: string[];
}

/** The HTTP headers of every vim25 call, as `soap` sends them for our WSDL. */
export const VIM25_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/xml; charset=utf-8',
  SOAPAction: `"urn:vim25/${VIM25_VERSION}"`,
};

/**
 * PropertyCollector.RetrievePropertiesEx over every object of a ContainerView (the ObjectSpec
 * govmomi's ContainerView.Retrieve uses), at most `maxObjects` per page.
 */
export function retrievePropertiesExBody(collector: MoRef, view: MoRef, propSet: PropertySpec[], maxObjects: number): string {
  const specs = propSet
    .map(
      (spec) =>
        `<propSet><type>${escapeXml(spec.type)}</type><all>false</all>` +
        spec.pathSet.map((path) => `<pathSet>${escapeXml(path)}</pathSet>`).join('') +
        '</propSet>',
    )
    .join('');
  return envelope(
    `<RetrievePropertiesEx xmlns="urn:vim25">${moRef('_this', collector)}<specSet>${specs}` +
      `<objectSet>${moRef('obj', view)}<skip>true</skip>` +
      '<selectSet xsi:type="TraversalSpec"><name>traverseEntities</name><type>ContainerView</type>' +
      '<path>view</path><skip>false</skip></selectSet></objectSet></specSet>' +
      `<options><maxObjects>${Math.trunc(maxObjects)}</maxObjects></options></RetrievePropertiesEx>`,
  );
}

/** PropertyCollector.ContinueRetrievePropertiesEx: the page after the one that gave `token`. */
export function continueRetrievePropertiesExBody(collector: MoRef, token: string): string {
  return envelope(
    `<ContinueRetrievePropertiesEx xmlns="urn:vim25">${moRef('_this', collector)}` +
      `<token>${escapeXml(token)}</token></ContinueRetrievePropertiesEx>`,
  );
}

/** PropertyCollector.RetrievePropertiesEx of some properties of one object (a VM, a Task). */
export function retrieveObjectBody(collector: MoRef, obj: MoRef, pathSet: string[]): string {
  return envelope(
    `<RetrievePropertiesEx xmlns="urn:vim25">${moRef('_this', collector)}<specSet>` +
      `<propSet><type>${escapeXml(obj.type)}</type><all>false</all>` +
      pathSet.map((path) => `<pathSet>${escapeXml(path)}</pathSet>`).join('') +
      `</propSet><objectSet>${moRef('obj', obj)}<skip>false</skip></objectSet></specSet><options/></RetrievePropertiesEx>`,
  );
}

/** A vim25 method that takes `_this` and simple elements, e.g. FindAllByUuid, PowerOffVM_Task, Destroy_Task. */
export function methodBody(method: string, target: MoRef, fields: Array<[string, string]> = []): string {
  const args = fields.map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`).join('');
  return envelope(`<${method} xmlns="urn:vim25">${moRef('_this', target)}${args}</${method}>`);
}

function envelope(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`
  );
}

function moRef(element: string, ref: MoRef): string {
  return `<${element} type="${escapeXml(ref.type)}">${escapeXml(ref.value)}</${element}>`;
}

/** Escapes text for element content and double-quoted attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}
