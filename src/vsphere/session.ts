import soap from 'soap';
import { DEFAULTS } from '../config/defaults.js';
import { vcenterSdkUrl } from '../model/vcenter.js';
import { VimError, describeSoapFailure, faultFromSoapError, type VimFaultInfo } from './errors.js';
import { parseThumbprint, type PinnedThumbprint } from '../model/vcenter.js';
import {
  continueRetrievePropertiesExBody,
  methodBody,
  retrieveObjectBody,
  retrievePropertiesExBody,
  VIM25_HEADERS,
  type PropertySpec,
} from './retrieve-request.js';
import { faultOfBody, returnedMoRefs } from './method-response.js';
import { RetrieveResponseReader, type ObjectContent, type RetrievePage } from './retrieve-response.js';
import { VimTransport, type PostOptions } from './transport.js';
import { VIM25_WSDL } from './vim25-wsdl.js';
import { readMoRef, readText, toSoapMoRef, type MoRef } from './wire.js';
import { redacted } from '../util/redact.js';

export type { PropertySpec } from './retrieve-request.js';
export type { ObjectContent, PropertyValue, RetrievePage } from './retrieve-response.js';

/** A vCenter to read, with the credentials and pinned thumbprint found for it in the backup. */
export interface VimTarget {
  /** `spec.server`: a host, host:port or URL. */
  server: string;
  username: string;
  password: string;
  /** `spec.thumbprint`: SHA-1 (or SHA-256) of the vCenter certificate, hex pairs. */
  thumbprint?: string;
  /** PEM certificates of CAs trusted beside the system's. */
  ca?: string;
  /**
   * Set when the credentials are the operator's and the operator has not said to trust this
   * vCenter: only a certificate that verifies against the CAs is accepted, and a refusal ends with
   * this hint on how to trust it.
   */
  untrustedHint?: string;
}

export interface VimSessionOptions {
  /** Turns every certificate check off, pinned thumbprint included. */
  insecureSkipVerify?: boolean;
  /** Deadline of each request (default DEFAULTS.vsphere.requestTimeoutMs). */
  timeoutMs?: number;
  /** Bound on the characters of one answer (default DEFAULTS.vsphere.maxResponseChars). */
  maxResponseChars?: number;
  signal?: AbortSignal;
  /** Receives progress lines; never a credential or the session cookie. */
  debug?: (msg: string) => void;
}

/** Enough for any vim25 faultstring meant for people ("Cannot complete login due to an incorrect user name or password."). */
const FAULT_MESSAGE_CHARS = 160;

/** The managed objects of a vCenter that the inventory reader uses. */
export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  searchIndex?: MoRef;
  /** `VirtualCenter` or `HostAgent`. */
  apiType?: string;
  apiVersion?: string;
}

type SoapMethod = (args: unknown, callback: (err: unknown, result: unknown) => void, options: PostOptions) => void;

let vim25Wsdl: Promise<soap.WSDL> | undefined;

/** Parses the minimal WSDL once per process; every session shares it. */
function loadWsdl(): Promise<soap.WSDL> {
  vim25Wsdl ??= new Promise((resolve, reject) => {
    const wsdl = new soap.WSDL(VIM25_WSDL, 'urn:vim25', {});
    wsdl.onReady((err) => (err ? reject(err) : resolve(wsdl)));
  });
  return vim25Wsdl;
}

/**
 * A logged-in vim25 session on one vCenter. Open it with `withVimSession`, which logs out
 * whatever happens.
 */
export class VimSession {
  private loggedIn = false;

  private constructor(
    readonly address: string,
    private readonly client: soap.Client,
    private readonly transport: VimTransport,
    readonly content: ServiceContent,
    /** What a fault may quote back: blanked from every message. */
    private readonly secrets: readonly string[],
  ) {}

  /** RetrieveServiceContent + Login. Throws a VimError; the password never appears in it. */
  static async open(target: VimTarget, options: VimSessionOptions = {}): Promise<VimSession> {
    let url: URL;
    let pinned: PinnedThumbprint | undefined;
    try {
      url = vcenterSdkUrl(target.server);
      pinned = target.thumbprint?.trim() ? parseThumbprint(target.thumbprint) : undefined;
    } catch (err) {
      throw new VimError('config', (err as Error).message);
    }
    const transport = new VimTransport({
      url,
      pinned,
      ...(target.ca ? { ca: target.ca } : {}),
      ...(target.untrustedHint !== undefined ? { untrustedHint: target.untrustedHint } : {}),
      insecureSkipVerify: options.insecureSkipVerify,
      timeoutMs: requestTimeout(options.timeoutMs),
      ...(options.maxResponseChars ? { maxResponseChars: options.maxResponseChars } : {}),
      signal: options.signal,
      debug: options.debug,
    });
    try {
      const wsdl = await loadWsdl();
      const client = new soap.Client(wsdl, url.href, {
        httpClient: transport as unknown as soap.IHttpClient,
        // Names are data: keep leading and trailing blanks (soap trims text by default).
        preserveWhitespace: true,
      });
      const secrets = [target.password];
      const content = await retrieveServiceContent(client, transport.address, secrets);
      const session = new VimSession(transport.address, client, transport, content, secrets);
      await session.login(target.username, target.password);
      return session;
    } catch (err) {
      transport.close();
      throw err;
    }
  }

  /** ViewManager.CreateContainerView. */
  async createContainerView(container: MoRef, types: string[], recursive: boolean): Promise<MoRef> {
    const result = await this.invoke('CreateContainerView', {
      _this: toSoapMoRef(this.content.viewManager),
      container: toSoapMoRef(container),
      type: types,
      recursive,
    });
    const view = readMoRef((result as { returnval?: unknown } | undefined)?.returnval);
    if (!view) throw this.protocolError('CreateContainerView', 'returned no view');
    return view;
  }

  /** View.DestroyView; a cleanup call, skipped when the connection is gone. */
  async destroyView(view: MoRef): Promise<void> {
    await this.cleanup('DestroyView', { _this: toSoapMoRef(view) });
  }

  /**
   * PropertyCollector.RetrievePropertiesEx over every object of a ContainerView, at most
   * `maxObjects` per page. Each object goes to `onObject` as it is read off the wire; the
   * answer is the token of the next page, if any.
   */
  retrieveFromView(view: MoRef, propSet: PropertySpec[], maxObjects: number, onObject: (object: ObjectContent) => void): Promise<RetrievePage> {
    const body = retrievePropertiesExBody(this.content.propertyCollector, view, propSet, maxObjects);
    return this.retrieve('RetrievePropertiesEx', body, onObject);
  }

  /** PropertyCollector.ContinueRetrievePropertiesEx: the next page of a paged retrieval. */
  continueRetrieve(token: string, onObject: (object: ObjectContent) => void): Promise<RetrievePage> {
    return this.retrieve('ContinueRetrievePropertiesEx', continueRetrievePropertiesExBody(this.content.propertyCollector, token), onObject);
  }

  /** PropertyCollector.CancelRetrievePropertiesEx: frees the server's state for an unfinished retrieval. */
  async cancelRetrieve(token: string): Promise<void> {
    await this.cleanup('CancelRetrievePropertiesEx', {
      _this: toSoapMoRef(this.content.propertyCollector),
      token,
    });
  }

  /** Some properties of one object; undefined when the object is gone. */
  async retrieveObject(obj: MoRef, pathSet: string[]): Promise<ObjectContent | undefined> {
    let found: ObjectContent | undefined;
    try {
      await this.retrieve('RetrievePropertiesEx', retrieveObjectBody(this.content.propertyCollector, obj, pathSet), (o) => (found = o));
    } catch (err) {
      if (err instanceof VimError && err.fault?.type === 'ManagedObjectNotFound') return undefined;
      throw err;
    }
    return found;
  }

  /**
   * A method outside the read path (SearchIndex, VM tasks), written by hand: its answer is a
   * managed object reference or a list of them, and a fault becomes a VimError.
   */
  async callMethod(method: string, target: MoRef, fields: Array<[string, string]> = []): Promise<MoRef[]> {
    const response = await this.transport.post(methodBody(method, target, fields), VIM25_HEADERS, { call: method });
    const fault = safeFault(faultOfBody(response.data), this.secrets);
    if (fault) throw new VimError('fault', `${method} failed with ${fault.type}: ${fault.message || 'no message'}`, fault);
    if (response.status !== 200) throw this.protocolError(method, `answered HTTP ${response.status}`);
    return returnedMoRefs(response.data);
  }

  /** The SearchIndex, for finding VMs by UUID. */
  get searchIndex(): MoRef | undefined {
    return this.content.searchIndex;
  }

  /** SessionManager.Logout, then closes the connections. Never throws. */
  async close(): Promise<void> {
    try {
      if (this.loggedIn) {
        await this.cleanup('Logout', { _this: toSoapMoRef(this.content.sessionManager) });
        this.loggedIn = false;
      }
    } finally {
      this.transport.close();
    }
  }

  private async login(username: string, password: string): Promise<void> {
    try {
      await this.invoke('Login', { _this: toSoapMoRef(this.content.sessionManager), userName: username, password });
    } catch (err) {
      if (err instanceof VimError && err.kind === 'fault' && err.fault) {
        throw new VimError(
          'login',
          `login of user ${JSON.stringify(username)} refused (${err.fault.type}: ${err.fault.message || 'no message'}); ` +
            'check the vSphere credentials',
          err.fault,
        );
      }
      throw err;
    }
    this.loggedIn = true;
  }

  /** Best effort: a failed cleanup call is reported to debug and otherwise ignored. */
  private async cleanup(method: string, args: unknown): Promise<void> {
    if (this.transport.broken) return;
    try {
      await callSoap(this.client, this.address, method, args, this.secrets, { call: method, cleanup: true });
    } catch (err) {
      this.debug(`${this.address} ${method} failed: ${(err as Error).message}`);
    }
  }

  private invoke(method: string, args: unknown): Promise<unknown> {
    return callSoap(this.client, this.address, method, args, this.secrets, { call: method });
  }

  /**
   * The property-collector pages bypass `soap`: its parser builds the whole 16 MB page as
   * objects before we see the first one, and took most of the walk's time.
   */
  private retrieve(call: string, body: string, onObject: (object: ObjectContent) => void): Promise<RetrievePage> {
    return this.transport.postStreaming(
      body,
      VIM25_HEADERS,
      { call },
      (status) => new RetrieveResponseReader(call, this.address, status, onObject, this.secrets),
    );
  }

  private protocolError(call: string, what: string): VimError {
    return new VimError('protocol', `${call} ${what}; is ${this.address} a vSphere SDK endpoint?`);
  }

  private debug(msg: string): void {
    this.transport.debug(msg);
  }
}

/** Opens a session, runs `work`, and logs out whatever happens. */
export async function withVimSession<T>(target: VimTarget, options: VimSessionOptions, work: (session: VimSession) => Promise<T>): Promise<T> {
  const session = await VimSession.open(target, options);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/** The per-request deadline: the default unless a usable positive number (timers hold at most ~24.8 days). */
function requestTimeout(ms: number | undefined): number {
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? Math.min(ms, 2 ** 31 - 1) : DEFAULTS.vsphere.requestTimeoutMs;
}

async function retrieveServiceContent(client: soap.Client, address: string, secrets: readonly string[]): Promise<ServiceContent> {
  const result = await callSoap(
    client,
    address,
    'RetrieveServiceContent',
    { _this: { attributes: { type: 'ServiceInstance' }, $value: 'ServiceInstance' } },
    secrets,
  );
  const raw = (result as { returnval?: Record<string, unknown> } | undefined)?.returnval;
  const rootFolder = readMoRef(raw?.rootFolder);
  const propertyCollector = readMoRef(raw?.propertyCollector);
  const viewManager = readMoRef(raw?.viewManager);
  const sessionManager = readMoRef(raw?.sessionManager);
  if (!rootFolder || !propertyCollector || !viewManager || !sessionManager) {
    throw new VimError(
      'protocol',
      `RetrieveServiceContent lacks the root folder, property collector, view manager or session manager; is ${address} a vSphere SDK endpoint?`,
    );
  }
  const about = raw?.about as Record<string, unknown> | undefined;
  return {
    rootFolder,
    propertyCollector,
    viewManager,
    sessionManager,
    ...(readMoRef(raw?.searchIndex) ? { searchIndex: readMoRef(raw?.searchIndex)! } : {}),
    apiType: readText(about?.apiType),
    apiVersion: readText(about?.apiVersion),
  };
}

/** Calls one vim25 method through `soap`, turning SOAP faults and parse failures into VimErrors. */
function callSoap(
  client: soap.Client,
  address: string,
  method: string,
  args: unknown,
  secrets: readonly string[],
  options: PostOptions = { call: method },
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as SoapMethod;
    fn.call(
      client,
      args,
      (err, result) => {
        // soap keeps the last exchange; responses hold extraConfig values (cloud-init secrets).
        client.lastResponse = undefined;
        client.lastRequest = undefined;
        client.lastMessage = undefined;
        if (!err) {
          resolve(result);
          return;
        }
        if (err instanceof VimError) {
          reject(err);
          return;
        }
        const fault = safeFault(faultFromSoapError(err), secrets);
        if (fault) {
          reject(new VimError('fault', `${method} failed with ${fault.type}: ${fault.message || 'no message'}`, fault));
          return;
        }
        reject(
          new VimError(
            'protocol',
            `the answer to ${method} is not a vim25 response (${redacted(describeSoapFailure(err), { secrets })}); ` +
              `is ${address} a vSphere SDK endpoint?`,
          ),
        );
      },
      options,
    );
  });
}

/**
 * A fault as messages may show it: the server's faultstring may quote the request (the Login
 * body, password included, in any encoding), so it is kept short and redacted; the type is kept whole.
 */
function safeFault(fault: VimFaultInfo | undefined, secrets: readonly string[]): VimFaultInfo | undefined {
  return fault && { ...fault, message: redacted(fault.message, { secrets, max: FAULT_MESSAGE_CHARS }) };
}
