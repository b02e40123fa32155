/**
 * Package definitions from protos parsed at build time (protobufjs JSON), for the single
 * executable: the same shape proto-loader gives, with what grpc-js needs to serve and call
 * (paths, streaming, codecs) made at once by protobufjs' light build, and the descriptors (the
 * `type` and `fileDescriptorProtos` only gRPC reflection reads) made by proto-loader at the first
 * read. A plugin process thereby starts without proto-loader, protobufjs' parser or its
 * descriptor extension, which encode every file's descriptor at load.
 */
import type * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs/light.js';

type DecodeOptions = Pick<protoLoader.Options, 'longs' | 'enums' | 'bytes' | 'defaults' | 'arrays' | 'objects' | 'oneofs' | 'json'>;

/**
 * @param json  one namespace of compiled protos (several merged into one, see protos.ts)
 * @param full  proto-loader's definitions of the same JSON, asked for only when a descriptor is read
 */
export function definitionsFromCompiled(
  json: protobuf.INamespace,
  options: DecodeOptions,
  full: () => protoLoader.PackageDefinition,
): protoLoader.PackageDefinition {
  const root = protobuf.Root.fromJSON(json);
  root.resolveAll();
  let described: protoLoader.PackageDefinition | undefined;
  const descriptors = () => (described ??= full());
  const definitions: protoLoader.PackageDefinition = {};
  for (const [name, object] of reflectionObjects(root, '')) {
    if (object instanceof protobuf.Service) definitions[name] = serviceDefinition(object, name, options, descriptors);
    else if (object instanceof protobuf.Type) definitions[name] = messageDefinition(object, name, options, descriptors);
    else
      definitions[name] = lazyDescriptors(
        { format: 'Protocol Buffer 3 EnumDescriptorProto' },
        name,
        descriptors,
      ) as protoLoader.EnumTypeDefinition;
  }
  return definitions;
}

/** Services, messages and enums by full name, as proto-loader lists them. */
function reflectionObjects(object: protobuf.ReflectionObject, parent: string): [string, protobuf.ReflectionObject][] {
  const name = parent === '' ? object.name : `${parent}.${object.name}`;
  if (object instanceof protobuf.Service || object instanceof protobuf.Type || object instanceof protobuf.Enum) return [[name, object]];
  if (object instanceof protobuf.Namespace && object.nested) return object.nestedArray.flatMap((child) => reflectionObjects(child, name));
  return [];
}

function serviceDefinition(
  service: protobuf.Service,
  name: string,
  options: DecodeOptions,
  descriptors: () => protoLoader.PackageDefinition,
): protoLoader.ServiceDefinition {
  const definition: protoLoader.ServiceDefinition = {};
  for (const method of service.methodsArray) {
    const request = method.resolvedRequestType!;
    const response = method.resolvedResponseType!;
    const described = () => (descriptors()[name] as protoLoader.ServiceDefinition)[method.name]!;
    const lazy = {
      requestType: () => described().requestType,
      responseType: () => described().responseType,
      options: () => described().options,
    };
    const fields = {
      path: `/${name}/${method.name}`,
      requestStream: !!method.requestStream,
      responseStream: !!method.responseStream,
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request, options),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response, options),
      // proto-loader's camelCase of the method name: method names are UpperCamelCase identifiers.
      originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
    };
    definition[method.name] = Object.defineProperties(fields, getters(lazy)) as protoLoader.MethodDefinition<object, object>;
  }
  return definition;
}

function messageDefinition(
  type: protobuf.Type,
  name: string,
  options: DecodeOptions,
  descriptors: () => protoLoader.PackageDefinition,
): protoLoader.MessageTypeDefinition<object, object> {
  const fields = { format: 'Protocol Buffer 3 DescriptorProto', serialize: serializer(type), deserialize: deserializer(type, options) };
  return lazyDescriptors(fields, name, descriptors) as protoLoader.MessageTypeDefinition<object, object>;
}

function lazyDescriptors(fields: object, name: string, descriptors: () => protoLoader.PackageDefinition): object {
  const described = () => descriptors()[name] as protoLoader.MessageTypeDefinition<object, object>;
  return Object.defineProperties(
    fields,
    getters({ type: () => described().type, fileDescriptorProtos: () => described().fileDescriptorProtos }),
  );
}

function getters(values: Record<string, () => unknown>): PropertyDescriptorMap {
  return Object.fromEntries(Object.entries(values).map(([key, get]) => [key, { get, enumerable: true }]));
}

/** As proto-loader's: from a plain object, refusing an array. */
function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    return type.encode(type.fromObject(value)).finish() as Buffer;
  };
}

function deserializer(type: protobuf.Type, options: DecodeOptions): (bytes: Buffer) => object {
  return (bytes) => type.toObject(type.decode(bytes), options);
}
