import test from 'ava';
import { SaxesParser } from 'saxes';
import { continueRetrievePropertiesExBody, escapeXml, retrievePropertiesExBody, VIM25_HEADERS } from '../../src/vsphere/retrieve-request.js';

const COLLECTOR = { type: 'PropertyCollector', value: 'propertyCollector' };

/** Every element name and text of a document, in order: proves it is well-formed and shows its shape. */
function outline(xml: string): string[] {
  const parts: string[] = [];
  const parser = new SaxesParser({ xmlns: true });
  parser.on('opentag', (tag) => {
    const attrs = Object.values(tag.attributes)
      .filter((a) => a.prefix !== 'xmlns' && a.name !== 'xmlns')
      .map((a) => ` {${a.uri}}${a.local}=${a.value}`);
    parts.push(`<{${tag.uri}}${tag.local}${attrs.join('')}>`);
  });
  parser.on('text', (text) => parts.push(text));
  parser.write(xml).close();
  return parts;
}

test('RetrievePropertiesEx is the ContainerView walk govmomi sends', (t) => {
  const body = retrievePropertiesExBody(
    COLLECTOR,
    { type: 'ContainerView', value: 'session[52c1]52b3-view' },
    [
      { type: 'VirtualMachine', pathSet: ['name', 'config.extraConfig'] },
      { type: 'Folder', pathSet: ['name'] },
    ],
    500,
  );
  const vim = (name: string) => `<{urn:vim25}${name}>`;
  t.deepEqual(outline(body).slice(2), [
    vim('RetrievePropertiesEx'),
    '<{urn:vim25}_this {}type=PropertyCollector>',
    'propertyCollector',
    vim('specSet'),
    vim('propSet'),
    vim('type'),
    'VirtualMachine',
    vim('all'),
    'false',
    vim('pathSet'),
    'name',
    vim('pathSet'),
    'config.extraConfig',
    vim('propSet'),
    vim('type'),
    'Folder',
    vim('all'),
    'false',
    vim('pathSet'),
    'name',
    vim('objectSet'),
    '<{urn:vim25}obj {}type=ContainerView>',
    'session[52c1]52b3-view',
    vim('skip'),
    'true',
    '<{urn:vim25}selectSet {http://www.w3.org/2001/XMLSchema-instance}type=TraversalSpec>',
    vim('name'),
    'traverseEntities',
    vim('type'),
    'ContainerView',
    vim('path'),
    'view',
    vim('skip'),
    'false',
    vim('options'),
    vim('maxObjects'),
    '500',
  ]);
  t.deepEqual(outline(body).slice(0, 2), [
    '<{http://schemas.xmlsoap.org/soap/envelope/}Envelope>',
    '<{http://schemas.xmlsoap.org/soap/envelope/}Body>',
  ]);
});

test('ContinueRetrievePropertiesEx carries the token, escaped', (t) => {
  const body = continueRetrievePropertiesExBody(COLLECTOR, '1<2&"3"');
  t.deepEqual(outline(body).slice(2), [
    '<{urn:vim25}ContinueRetrievePropertiesEx>',
    '<{urn:vim25}_this {}type=PropertyCollector>',
    'propertyCollector',
    '<{urn:vim25}token>',
    '1<2&"3"',
  ]);
});

test('escapeXml escapes what would end text or a quoted attribute', (t) => {
  t.is(escapeXml(`a&b<c>d"e'f`), `a&amp;b&lt;c&gt;d&quot;e'f`);
});

test('the headers are the ones soap sends for the other calls', (t) => {
  t.deepEqual(VIM25_HEADERS, { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"urn:vim25/6.5"' });
});
