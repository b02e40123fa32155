/**
 * Reads RetrievePropertiesEx / ContinueRetrievePropertiesEx answers as they stream in, one
 * ObjectContent at a time, without building a tree of the page: at 8,000 VMs a page is 16 MB of
 * XML, and `soap`'s parser spent most of the walk on it.
 *
 * Namespaces are resolved here (the tokenizer runs without them, which halves its time): an
 * `xsi:type` is an attribute named `type` in the XML Schema instance namespace whatever its
 * prefix (vcsim binds `XMLSchema-instance:` on every value, vCenter `xsi:` on the envelope),
 * and a MoRef's own `type` is the unprefixed attribute, in no namespace.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { redacted } from '../util/redact.js';
import { VimError, type VimFaultInfo } from './errors.js';
import type { BodyReader } from './transport.js';
import type { MoRef } from './wire.js';

/**
 * A property value in the forms the walk reads. The values of `config.extraConfig` are never
 * read: they hold cloud-init data, secrets included; only the keys are kept.
 */
export type PropertyValue =
  /** A simple value: `xsd:string`, `xsd:boolean`, an enum such as VirtualMachinePowerState. */
  | { kind: 'text'; text: string }
  | { kind: 'ref'; ref: MoRef }
  /** `ArrayOfOptionValue`: the option keys, in order. */
  | { kind: 'optionKeys'; keys: string[] }
  /** Any other structured value, skipped; `type` is its `xsi:type` without prefix. */
  | { kind: 'unread'; type?: string };

/** One `ObjectContent` of a page. */
export interface ObjectContent {
  obj: MoRef;
  propSet: Array<{ name: string; val: PropertyValue }>;
  /** Properties the server could not read for this object, with the fault type (e.g. `InvalidProperty`). */
  missingSet: Array<{ path: string; fault: string }>;
}

/** What a page leaves once its objects have been handed on; a token means more pages remain. */
export interface RetrievePage {
  token?: string;
  objects: number;
}

const SOAP_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** Depths of the elements read, the Envelope being 1. */
const BODY_CHILD = 3;
/** In an answer: returnval 4, token and objects 5, obj / propSet / missingSet 6, their fields 7. */
const RESULT_FIELD = 5;
const OBJECT_FIELD = 6;
const PROPERTY_FIELD = 7;
/** In a Fault: faultstring and detail 4, the fault element 5, its fields 6. */
const FAULT_FIELD = 4;

/** Where the text being read goes. */
const enum Capture {
  None,
  Token,
  Obj,
  PropertyName,
  Value,
  OptionKey,
  MissingPath,
  FaultString,
  FaultPropertyName,
}

interface PendingValue {
  kind: 'text' | 'ref' | 'optionKeys' | 'unread';
  refType?: string;
  xsiType?: string;
  keys?: string[];
}

interface PendingObject {
  obj?: MoRef;
  objType?: string;
  propSet: Array<{ name: string; val: PropertyValue }>;
  missingSet: Array<{ path: string; fault: string }>;
}

/**
 * The body reader of one RetrievePropertiesEx or ContinueRetrievePropertiesEx call. Each
 * ObjectContent goes to `onObject` as soon as its closing tag is read; `end` answers the token
 * and the object count, or throws the SOAP Fault the page held as a `fault` VimError, or a
 * `protocol` VimError for anything that is not a vim25 answer.
 */
export class RetrieveResponseReader implements BodyReader<RetrievePage> {
  private readonly parser = new SaxesParser();
  private depth = 0;
  /** Local names of the open elements, by depth. */
  private readonly open: string[] = [];
  /** In-scope namespace bindings by prefix ('' is the default namespace), with an undo log per depth. */
  private readonly bindings = new Map<string, string>([['xml', XML_NS]]);
  private readonly undo: Array<{ depth: number; prefix: string; uri: string | undefined }> = [];

  private sawEnvelope = false;
  private bodyDepth = 0;
  private mode: 'none' | 'result' | 'fault' = 'none';

  private capture = Capture.None;
  private captureDepth = 0;
  private text = '';

  private token: string | undefined;
  private objects = 0;
  private object: PendingObject | undefined;
  private propertyName: string | undefined;
  private value: PendingValue | undefined;
  /** The text of the value being read, kept until its propSet closes. */
  private valueText = '';
  private missing: { path: string; fault: string } | undefined;

  private faultString = '';
  private faultType: string | undefined;
  private faultPropertyName: string | undefined;

  constructor(
    /** The vim25 method, for messages. */
    private readonly call: string,
    private readonly address: string,
    private readonly status: number,
    private readonly onObject: (object: ObjectContent) => void,
    private readonly secrets: readonly string[] = [],
  ) {
    this.parser.on('opentag', (tag) => this.openTag(tag));
    this.parser.on('closetag', () => this.closeTag());
    this.parser.on('text', (text) => this.addText(text));
    this.parser.on('cdata', (text) => this.addText(text));
    this.parser.on('doctype', () => {
      // SOAP forbids DTDs; refusing one also rules out entity definitions.
      throw this.notVim25('it carries a DOCTYPE');
    });
    this.parser.on('error', (err) => {
      throw this.notVim25(`malformed XML: ${err.message}`);
    });
  }

  write(text: string): void {
    this.parser.write(text);
  }

  end(): RetrievePage {
    this.parser.close();
    if (this.mode === 'fault') {
      const type = this.faultType ?? 'MethodFault';
      // The server's words, short and without the secrets (`secrets`) a faultstring may quote from the request.
      const message = redacted(this.faultString, { secrets: this.secrets, max: 160 });
      const fault: VimFaultInfo = { type, message, ...(this.faultPropertyName === undefined ? {} : { propertyName: this.faultPropertyName }) };
      throw new VimError('fault', `${this.call} failed with ${type}: ${fault.message || 'no message'}`, fault);
    }
    if (this.mode !== 'result') {
      throw this.notVim25(this.sawEnvelope ? `no ${this.call}Response in the SOAP Body` : 'no SOAP Envelope');
    }
    return this.token ? { token: this.token, objects: this.objects } : { objects: this.objects };
  }

  private openTag(tag: SaxesTagPlain): void {
    const depth = ++this.depth;
    const attributes = tag.attributes;
    for (const name in attributes) {
      if (name.startsWith('xmlns')) this.declare(name, attributes[name]!, depth);
    }
    const qname = tag.name;
    const colon = qname.indexOf(':');
    const local = colon < 0 ? qname : qname.slice(colon + 1);
    this.open[depth] = local;

    if (depth === 1) {
      if (local !== 'Envelope' || !this.inSoapNamespace(qname, colon)) throw this.notVim25(`its root element is ${qname}, not a SOAP Envelope`);
      this.sawEnvelope = true;
      return;
    }
    if (depth === 2) {
      if (local === 'Body' && this.inSoapNamespace(qname, colon)) this.bodyDepth = 2;
      return;
    }
    if (this.bodyDepth !== 2) return;
    if (depth === BODY_CHILD) {
      if (this.mode !== 'none') throw this.notVim25('more than one element in the SOAP Body');
      if (local === 'Fault' && this.inSoapNamespace(qname, colon)) this.mode = 'fault';
      else if (local === `${this.call}Response`) this.mode = 'result';
      return;
    }
    if (this.mode === 'result') this.openResultElement(depth, local, attributes);
    else if (this.mode === 'fault') this.openFaultElement(depth, local, attributes);
  }

  private openResultElement(depth: number, local: string, attributes: Record<string, string>): void {
    const parent = this.open[depth - 1];
    switch (depth) {
      case RESULT_FIELD:
        if (parent !== 'returnval') return;
        if (local === 'token') this.startCapture(Capture.Token, depth);
        else if (local === 'objects') this.object = { propSet: [], missingSet: [] };
        return;
      case OBJECT_FIELD:
        if (!this.object) return;
        if (local === 'obj') {
          this.object.objType = attributes.type;
          this.startCapture(Capture.Obj, depth);
        } else if (local === 'propSet') {
          this.propertyName = undefined;
          this.value = undefined;
        } else if (local === 'missingSet') {
          this.missing = { path: '', fault: 'MethodFault' };
        }
        return;
      case PROPERTY_FIELD:
        if (!this.object) return;
        if (parent === 'propSet') {
          if (local === 'name') this.startCapture(Capture.PropertyName, depth);
          else if (local === 'val') this.startValue(depth, attributes);
        } else if (parent === 'missingSet' && local === 'path') {
          this.startCapture(Capture.MissingPath, depth);
        }
        return;
      default:
        this.openNested(depth, local, attributes);
    }
  }

  /** Elements below a value or a missingSet's fault. */
  private openNested(depth: number, local: string, attributes: Record<string, string>): void {
    if (!this.object) return;
    const value = this.value;
    const field = this.open[PROPERTY_FIELD];
    if (field === 'val' && this.open[OBJECT_FIELD] === 'propSet' && value) {
      if (value.kind === 'optionKeys') {
        // <OptionValue><key>…</key><value>…</value></OptionValue>: only the key is read.
        if (depth === PROPERTY_FIELD + 2 && local === 'key' && this.open[depth - 1] === 'OptionValue') {
          this.startCapture(Capture.OptionKey, depth);
        }
      } else if (value.kind === 'text' || value.kind === 'ref') {
        // A structured value the walk does not read.
        value.kind = 'unread';
        this.stopCapture();
      }
    } else if (field === 'fault' && this.open[OBJECT_FIELD] === 'missingSet' && this.missing) {
      // <fault><fault xsi:type="NoPermission">…</fault></fault>
      if (depth === PROPERTY_FIELD + 1 && local === 'fault') {
        this.missing.fault = this.xsiTypeOf(attributes) ?? this.missing.fault;
      }
    }
  }

  private openFaultElement(depth: number, local: string, attributes: Record<string, string>): void {
    if (depth === FAULT_FIELD) {
      if (local === 'faultstring') this.startCapture(Capture.FaultString, depth);
    } else if (depth === FAULT_FIELD + 1 && this.open[FAULT_FIELD] === 'detail') {
      // The first element of <detail> is the vim25 fault, e.g. <InvalidPropertyFault xsi:type="InvalidProperty">.
      this.faultType ??= this.xsiTypeOf(attributes) ?? local.replace(/Fault$/, '');
    } else if (depth === FAULT_FIELD + 2 && this.open[FAULT_FIELD] === 'detail' && local === 'name') {
      this.startCapture(Capture.FaultPropertyName, depth);
    }
  }

  private startValue(depth: number, attributes: Record<string, string>): void {
    this.valueText = '';
    const xsiType = this.xsiTypeOf(attributes);
    const refType = attributes.type;
    if (refType !== undefined || xsiType === 'ManagedObjectReference') {
      this.value = { kind: 'ref', refType: refType ?? '', xsiType };
      this.startCapture(Capture.Value, depth);
    } else if (xsiType === 'ArrayOfOptionValue') {
      this.value = { kind: 'optionKeys', keys: [], xsiType };
    } else {
      this.value = { kind: 'text', xsiType };
      this.startCapture(Capture.Value, depth);
    }
  }

  private closeTag(): void {
    const depth = this.depth;
    if (this.capture !== Capture.None && depth === this.captureDepth) this.endCapture();
    if (this.mode === 'result' && this.object) {
      const local = this.open[depth];
      if (depth === RESULT_FIELD && local === 'objects') this.endObject();
      else if (depth === OBJECT_FIELD && local === 'propSet') this.endProperty();
      else if (depth === OBJECT_FIELD && local === 'missingSet' && this.missing) {
        this.object.missingSet.push(this.missing);
        this.missing = undefined;
      }
    }
    while (this.undo.length > 0 && this.undo[this.undo.length - 1]!.depth === depth) {
      const { prefix, uri } = this.undo.pop()!;
      if (uri === undefined) this.bindings.delete(prefix);
      else this.bindings.set(prefix, uri);
    }
    if (depth === this.bodyDepth) this.bodyDepth = 0;
    this.depth = depth - 1;
  }

  private endProperty(): void {
    const value = this.value;
    if (this.propertyName === undefined || !value) return;
    let val: PropertyValue;
    if (value.kind === 'ref') val = { kind: 'ref', ref: { type: value.refType ?? '', value: this.valueText } };
    else if (value.kind === 'text') val = { kind: 'text', text: this.valueText };
    else if (value.kind === 'optionKeys') val = { kind: 'optionKeys', keys: value.keys ?? [] };
    else val = value.xsiType === undefined ? { kind: 'unread' } : { kind: 'unread', type: value.xsiType };
    this.object!.propSet.push({ name: this.propertyName, val });
    this.value = undefined;
    this.valueText = '';
  }

  private endObject(): void {
    const object = this.object!;
    this.object = undefined;
    if (!object.obj) throw this.notVim25('an object without a reference');
    this.objects++;
    this.onObject({ obj: object.obj, propSet: object.propSet, missingSet: object.missingSet });
  }

  private endCapture(): void {
    const text = this.text;
    switch (this.capture) {
      case Capture.Token:
        this.token = text;
        break;
      case Capture.Obj:
        if (this.object?.objType !== undefined) this.object.obj = { type: this.object.objType, value: text };
        break;
      case Capture.PropertyName:
        this.propertyName = text;
        break;
      case Capture.Value:
        this.valueText = text;
        break;
      case Capture.OptionKey:
        this.value?.keys?.push(text);
        break;
      case Capture.MissingPath:
        if (this.missing) this.missing.path = text;
        break;
      case Capture.FaultString:
        this.faultString = text;
        break;
      case Capture.FaultPropertyName:
        this.faultPropertyName = text;
        break;
    }
    this.stopCapture();
  }

  private startCapture(capture: Capture, depth: number): void {
    this.capture = capture;
    this.captureDepth = depth;
    this.text = '';
  }

  private stopCapture(): void {
    this.capture = Capture.None;
    this.text = '';
  }

  private addText(text: string): void {
    // Only the direct text of the element being read; never the values of extraConfig.
    if (this.capture !== Capture.None && this.depth === this.captureDepth) this.text += text;
  }

  private declare(attribute: string, uri: string, depth: number): void {
    let prefix: string;
    if (attribute === 'xmlns') prefix = '';
    else if (attribute.charCodeAt(5) === 58 /* : */) prefix = attribute.slice(6);
    else return;
    this.undo.push({ depth, prefix, uri: this.bindings.get(prefix) });
    // xmlns:p="" undeclares (XML Namespaces 1.1); xmlns="" resets the default namespace.
    if (uri === '') this.bindings.delete(prefix);
    else this.bindings.set(prefix, uri);
  }

  private inSoapNamespace(qname: string, colon: number): boolean {
    const prefix = colon < 0 ? '' : qname.slice(0, colon);
    return this.bindings.get(prefix) === SOAP_ENVELOPE_NS;
  }

  /** The `xsi:type` of an element without the prefix of its value, e.g. `string` for `xsd:string`. */
  private xsiTypeOf(attributes: Record<string, string>): string | undefined {
    for (const name in attributes) {
      const colon = name.indexOf(':');
      if (colon < 0 || name.slice(colon + 1) !== 'type') continue;
      if (this.bindings.get(name.slice(0, colon)) !== XSI_NS) continue;
      const value = attributes[name]!;
      return value.slice(value.indexOf(':') + 1);
    }
    return undefined;
  }

  private notVim25(why: string): VimError {
    const status = this.status === 200 ? '' : `HTTP ${this.status}, `;
    return new VimError(
      'protocol',
      `the answer to ${this.call} is not a vim25 response (${status}${why}); is ${this.address} a vSphere SDK endpoint?`,
    );
  }
}
