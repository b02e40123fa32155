import test from 'ava';
import { VimError } from '../../src/vsphere/errors.js';
import { RetrieveResponseReader, type ObjectContent, type RetrievePage } from '../../src/vsphere/retrieve-response.js';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const SECRET = 'I2Nsb3VkLWNvbmZpZwpzZWNyZXQ6IGh1bnRlcjI=';

/** A page as a real vCenter writes it: `xsi:` bound on the envelope. */
function envelope(body: string, rootAttributes = ''): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
    `xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${XSI}"${rootAttributes}>` +
    `<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`
  );
}

function response(inner: string, call = 'RetrievePropertiesEx'): string {
  return envelope(`<${call}Response xmlns="urn:vim25">${inner}</${call}Response>`);
}

const VM = (attrs: (type: string) => string) =>
  '<objects><obj type="VirtualMachine">vm-42</obj>' +
  `<propSet><name>name</name><val ${attrs('xsd:string')}>wl-md-0</val></propSet>` +
  `<propSet><name>config.template</name><val ${attrs('xsd:boolean')}>false</val></propSet>` +
  `<propSet><name>parent</name><val ${attrs('ManagedObjectReference')} type="Folder">group-v10</val></propSet>` +
  `<propSet><name>config.extraConfig</name><val ${attrs('ArrayOfOptionValue')}>` +
  `<OptionValue ${attrs('OptionValue')}><key>guestinfo.userdata</key><value ${attrs('xsd:string')}>${SECRET}</value></OptionValue>` +
  `<OptionValue ${attrs('OptionValue')}><key>guestinfo.metadata</key><value ${attrs('xsd:string')}>aWQ=</value></OptionValue>` +
  '</val></propSet>' +
  '</objects>';

const EXPECTED_VM: ObjectContent = {
  obj: { type: 'VirtualMachine', value: 'vm-42' },
  propSet: [
    { name: 'name', val: { kind: 'text', text: 'wl-md-0' } },
    { name: 'config.template', val: { kind: 'text', text: 'false' } },
    { name: 'parent', val: { kind: 'ref', ref: { type: 'Folder', value: 'group-v10' } } },
    { name: 'config.extraConfig', val: { kind: 'optionKeys', keys: ['guestinfo.userdata', 'guestinfo.metadata'] } },
  ],
  missingSet: [],
};

/** Feeds `xml` to a reader in chunks of `chunk` characters; answers the objects and the page, or the error. */
function read(xml: string, options: { chunk?: number; status?: number; call?: string } = {}) {
  const objects: ObjectContent[] = [];
  const reader = new RetrieveResponseReader(options.call ?? 'RetrievePropertiesEx', 'vc.example:443', options.status ?? 200, (o) =>
    objects.push(o),
  );
  const chunk = options.chunk ?? xml.length;
  let page: RetrievePage | undefined;
  let error: unknown;
  try {
    for (let i = 0; i < xml.length; i += chunk) reader.write(xml.slice(i, i + chunk));
    page = reader.end();
  } catch (err) {
    error = err;
  }
  return { objects, page, error };
}

test('a vCenter page reads into objects, whatever the chunking', (t) => {
  const xml = response(`<returnval><token>page-1</token>${VM((type) => `xsi:type="${type}"`)}</returnval>`);
  for (const chunk of [1, 7, 4096, xml.length]) {
    const { objects, page, error } = read(xml, { chunk });
    t.is(error, undefined, `chunk ${chunk}`);
    t.deepEqual(page, { token: 'page-1', objects: 1 });
    t.deepEqual(objects, [EXPECTED_VM], `chunk ${chunk}`);
  }
});

test('xsi:type is found by its namespace, not its prefix', (t) => {
  // vcsim binds XMLSchema-instance: on each value; any other prefix bound to XSI works the same.
  for (const prefix of ['XMLSchema-instance', 'i']) {
    const xml = response(`<returnval>${VM((type) => `xmlns:${prefix}="${XSI}" ${prefix}:type="${type}"`)}</returnval>`);
    const { objects, error } = read(xml, { chunk: 13 });
    t.is(error, undefined);
    t.deepEqual(objects, [EXPECTED_VM], prefix);
  }
  // A `type` attribute in another namespace is not an xsi:type: the array is not read as options.
  const other = response(
    '<returnval><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>config.extraConfig</name>' +
      '<val xmlns:xsi="urn:not-xsi" xsi:type="ArrayOfOptionValue"><OptionValue><key>guestinfo.metadata</key></OptionValue></val>' +
      '</propSet></objects></returnval>',
  );
  const { objects } = read(other);
  t.deepEqual(objects[0]!.propSet[0]!.val, { kind: 'unread' });
});

test('extraConfig values are never kept, only the keys', (t) => {
  const xml = response(`<returnval>${VM((type) => `xsi:type="${type}"`)}</returnval>`);
  const { objects } = read(xml, { chunk: 5 });
  t.false(JSON.stringify(objects).includes(SECRET));
});

test('entities, character references, CDATA and blanks in names are read as the text they stand for', (t) => {
  const xml = response(
    '<returnval><objects><obj type="VirtualMachine">vm-7</obj>' +
      '<propSet><name>name</name><val xsi:type="xsd:string"> &#34;billing&#34; &amp; r&#xE9;ports &lt;q3&gt; </val></propSet>' +
      '</objects><objects><obj type="Folder">group-v3</obj>' +
      '<propSet><name>name</name><val xsi:type="xsd:string"><![CDATA[a <b> & c]]></val></propSet>' +
      '</objects></returnval>',
  );
  const { objects, error } = read(xml, { chunk: 3 });
  t.is(error, undefined);
  t.deepEqual(
    objects.map((o) => o.propSet[0]!.val),
    [
      { kind: 'text', text: ' "billing" & réports <q3> ' },
      { kind: 'text', text: 'a <b> & c' },
    ],
  );
});

test('missingSet entries carry the path and the fault type', (t) => {
  const xml = response(
    '<returnval><objects><obj type="VirtualMachine">vm-9</obj>' +
      '<missingSet><path>config.extraConfig</path><fault><fault xsi:type="NoPermission"><object type="VirtualMachine">vm-9</object>' +
      '<privilegeId>VirtualMachine.Config.AdvancedConfig</privilegeId></fault><localizedMessage></localizedMessage></fault></missingSet>' +
      `<missingSet><path>bad.path</path><fault><fault xmlns:XMLSchema-instance="${XSI}" XMLSchema-instance:type="InvalidProperty">` +
      '<name>bad.path</name></fault></fault></missingSet>' +
      '</objects></returnval>',
  );
  const { objects, error } = read(xml);
  t.is(error, undefined);
  t.deepEqual(objects[0]!.missingSet, [
    { path: 'config.extraConfig', fault: 'NoPermission' },
    { path: 'bad.path', fault: 'InvalidProperty' },
  ]);
});

test('values of other shapes are skipped and named by their type', (t) => {
  const xml = response(
    '<returnval><objects><obj type="VirtualMachine">vm-3</obj>' +
      '<propSet><name>guest</name><val xsi:type="GuestInfo"><toolsStatus>toolsOk</toolsStatus><net><ipAddress>10.0.0.1</ipAddress></net></val></propSet>' +
      '<propSet><name>runtime.powerState</name><val xsi:type="VirtualMachinePowerState">poweredOff</val></propSet>' +
      '</objects></returnval>',
  );
  const { objects } = read(xml);
  t.deepEqual(objects[0]!.propSet, [
    { name: 'guest', val: { kind: 'unread', type: 'GuestInfo' } },
    { name: 'runtime.powerState', val: { kind: 'text', text: 'poweredOff' } },
  ]);
});

test('an empty result has no returnval and no token', (t) => {
  t.deepEqual(read(response('')).page, { objects: 0 });
  t.deepEqual(read(response('<returnval></returnval>', 'ContinueRetrievePropertiesEx'), { call: 'ContinueRetrievePropertiesEx' }).page, {
    objects: 0,
  });
});

test('a SOAP Fault becomes a fault VimError with its type, message and property name', (t) => {
  const xml = envelope(
    '<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Invalid property &quot;x&quot;</faultstring>' +
      `<detail><InvalidPropertyFault xmlns="urn:vim25" xmlns:XMLSchema-instance="${XSI}" XMLSchema-instance:type="InvalidProperty">` +
      '<name>config.extraConfig</name></InvalidPropertyFault></detail></soapenv:Fault>',
  );
  const { error } = read(xml, { status: 500, chunk: 11 });
  t.true(error instanceof VimError);
  const vimError = error as VimError;
  t.is(vimError.kind, 'fault');
  t.deepEqual(vimError.fault, { type: 'InvalidProperty', message: 'Invalid property "x"', propertyName: 'config.extraConfig' });
  t.is(vimError.message, 'RetrievePropertiesEx failed with InvalidProperty: Invalid property "x"');

  // Without xsi:type the element name tells the type.
  const bare = envelope(
    '<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring></faultstring>' +
      '<detail><NotAuthenticatedFault xmlns="urn:vim25"><object type="Folder">group-d1</object></NotAuthenticatedFault></detail></soapenv:Fault>',
  );
  const fault = read(bare, { status: 500, call: 'ContinueRetrievePropertiesEx' }).error as VimError;
  t.deepEqual(fault.fault, { type: 'NotAuthenticated', message: '' });
  t.is(fault.message, 'ContinueRetrievePropertiesEx failed with NotAuthenticated: no message');
});

test('an answer that is not a vim25 page is a protocol error naming the call and the server', (t) => {
  const cases: Array<[string, RegExp, number?]> = [
    ['<html><body>Bad Gateway</body></html>', /HTTP 502, its root element is html, not a SOAP Envelope/, 502],
    ['<Envelope xmlns="urn:other"><Body/></Envelope>', /its root element is Envelope, not a SOAP Envelope/],
    [response('<returnval><objects><obj type="VirtualMachine">vm-1</obj></object></returnval>'), /malformed XML: .*close tag/],
    [response('<returnval>').slice(0, -30), /malformed XML/],
    ['<!DOCTYPE x [<!ENTITY a "b">]><x/>', /it carries a DOCTYPE/],
    [envelope('<LoginResponse xmlns="urn:vim25"/>'), /no RetrievePropertiesExResponse in the SOAP Body/],
    [response('<returnval><objects><propSet><name>name</name><val>x</val></propSet></objects></returnval>'), /an object without a reference/],
  ];
  for (const [xml, reason, status] of cases) {
    const { error } = read(xml, { status: status ?? 200, chunk: 9 });
    t.true(error instanceof VimError, xml);
    t.is((error as VimError).kind, 'protocol', xml);
    t.regex((error as VimError).message, /^the answer to RetrievePropertiesEx is not a vim25 response \(/);
    t.regex((error as VimError).message, reason);
    t.regex((error as VimError).message, /is vc\.example:443 a vSphere SDK endpoint\?$/);
  }
});
