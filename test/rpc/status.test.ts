/** One mapping from any failure to a gRPC status: domain kinds, the sources' own errors, protocol errors. */
import test from 'ava';
import { status } from '@grpc/grpc-js';
import { DomainError, type ErrorKind } from '../../src/app/errors.js';
import { failureKind } from '../../src/app/failures.js';
import { BackupError } from '../../src/backup/errors.js';
import { BackupSourceError, type BackupSourceFailure } from '../../src/backup/errors.js';
import { StorageLocationError } from '../../src/storage/errors.js';
import { ServiceError } from '../../src/rpc/service-error.js';
import { grpcStatusOf, toGrpcError } from '../../src/rpc/status.js';

const KINDS: Array<[ErrorKind, status]> = [
  ['invalid-argument', status.INVALID_ARGUMENT],
  ['not-found', status.NOT_FOUND],
  ['permission-denied', status.PERMISSION_DENIED],
  ['unavailable', status.UNAVAILABLE],
  ['timeout', status.DEADLINE_EXCEEDED],
  ['busy', status.RESOURCE_EXHAUSTED],
  ['blocked', status.FAILED_PRECONDITION],
  ['misconfigured', status.FAILED_PRECONDITION],
  ['cancelled', status.CANCELLED],
  ['internal', status.INTERNAL],
];

test('every domain kind has its status code', (t) => {
  for (const [kind, code] of KINDS) t.is(grpcStatusOf(new DomainError(kind, kind)), code, kind);
});

test("the sources' errors keep their classes and get the code of what went wrong", (t) => {
  const sources: Array<[BackupSourceFailure, status]> = [
    ['not-found', status.NOT_FOUND],
    ['access-denied', status.PERMISSION_DENIED],
    ['credentials', status.PERMISSION_DENIED],
    ['network', status.UNAVAILABLE],
    ['failed', status.UNAVAILABLE],
    ['invalid', status.INVALID_ARGUMENT],
  ];
  for (const [failure, code] of sources) {
    const cause = new BackupSourceError(failure, 'velero', 'backups/b1/b1.tar.gz', failure);
    // As the detection throws it: a BackupError naming the backup, the S3 failure as its cause.
    t.is(grpcStatusOf(new BackupError('s3://velero/backups/b1/b1.tar.gz', undefined, 'cannot open the backup', { cause })), code, failure);
  }
  t.is(grpcStatusOf(new StorageLocationError('bsl.yaml', 'bucket', 'required')), status.FAILED_PRECONDITION);
  t.is(grpcStatusOf(new BackupError('b.tar.gz', 'x.json', 'not JSON')), status.INVALID_ARGUMENT, 'a backup read but unusable');
  t.is(grpcStatusOf(new Error('unexpected')), status.INTERNAL);
});

test("the platform's abort and timeout, and protocol errors with their own code", (t) => {
  t.is(grpcStatusOf(AbortSignal.abort().reason), status.CANCELLED);
  t.is(grpcStatusOf(new DOMException('slow', 'TimeoutError')), status.DEADLINE_EXCEEDED);
  t.is(grpcStatusOf(new ServiceError(status.UNAUTHENTICATED, 'invalid bearer token')), status.UNAUTHENTICATED);
  // The outermost error that says wins over its causes.
  const wrapped = new DomainError('misconfigured', 'drift-detector plugin: ...', { cause: new DomainError('not-found', 'gone') });
  t.is(grpcStatusOf(wrapped), status.FAILED_PRECONDITION);
  t.is(failureKind(new Error('outer', { cause: new DomainError('busy', 'busy') })), 'busy');
  t.deepEqual(
    { ...toGrpcError(new DomainError('not-found', 'backup b9 not found')), metadata: undefined },
    { code: status.NOT_FOUND, details: 'backup b9 not found', metadata: undefined },
  );
});
