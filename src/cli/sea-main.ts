/**
 * Entry of the single executable (scripts/build-plugin.mjs bundles it as CommonJS, where top-level
 * await is not allowed). The build replaces DRIFT_DETECTOR_EMBEDDED_PROTOS with the texts of
 * proto/ and of the protos grpc-health-check and @grpc/reflection read at run time, since the
 * executable has no package directory beside it, and DRIFT_DETECTOR_COMPILED_PROTOS with the same
 * protos already parsed, so that starting does not parse proto text.
 */
import { releaseEmbeddedProtos, useEmbeddedProtos, type CompiledProto } from '../rpc/protos.js';
import { run } from './entry.js';

declare const DRIFT_DETECTOR_EMBEDDED_PROTOS: Record<string, string>;
declare const DRIFT_DETECTOR_COMPILED_PROTOS: string;

useEmbeddedProtos(DRIFT_DETECTOR_EMBEDDED_PROTOS, JSON.parse(DRIFT_DETECTOR_COMPILED_PROTOS) as Record<string, CompiledProto>);
// The texts are written to a private temporary directory when first needed: leave nothing behind.
process.on('exit', releaseEmbeddedProtos);
// argv is [executable, name as invoked, ...args]: the name decides plugin mode, like a multi-call binary.
run(process.argv, process.argv0).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
