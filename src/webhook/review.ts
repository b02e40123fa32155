/**
 * admission.k8s.io/v1 AdmissionReview, as kube-apiserver sends and expects it: the request is
 * checked just enough to answer (uid, operation, resource, object); the response echoes the uid.
 * Only CREATE of restores.velero.io is judged: Velero patches its own Restores (UPDATE) and nothing
 * is restored by a DELETE.
 */
import { parseUntrustedJson } from '../util/json.js';
import { errorMessage, isMap } from '../util/values.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** A request the door cannot answer: HTTP 400 with this text. */
export class MalformedReview extends Error {}

export interface ReviewRequest {
  uid: string;
  /** The Restore to judge; undefined when the request is not a CREATE of a Restore. */
  restore?: Record<string, unknown>;
  operation: string;
  user?: string;
  dryRun: boolean;
}

export interface ReviewAnswer {
  allowed: boolean;
  message?: string;
  warnings: string[];
}

/** Warnings kube-apiserver passes on; longer ones are cut so that `velero`'s output stays readable. */
const MAX_WARNINGS = 10;
const MAX_WARNING_LENGTH = 512;

export function parseReview(body: string): ReviewRequest {
  let review: unknown;
  try {
    review = parseUntrustedJson(body);
  } catch (err) {
    throw new MalformedReview(`the body is ${errorMessage(err)}`);
  }
  if (!isMap(review)) throw new MalformedReview('the body is not a JSON object');
  if (review['apiVersion'] !== ADMISSION_API_VERSION || review['kind'] !== 'AdmissionReview') {
    throw new MalformedReview(`expected apiVersion ${ADMISSION_API_VERSION}, kind AdmissionReview (admissionReviewVersions: [v1])`);
  }
  const request = review['request'];
  if (!isMap(request)) throw new MalformedReview('request: required');
  const uid = request['uid'];
  if (typeof uid !== 'string' || uid === '') throw new MalformedReview('request.uid: required');
  const operation = typeof request['operation'] === 'string' ? request['operation'] : '';
  const resource = isMap(request['resource']) ? request['resource'] : {};
  const userInfo = isMap(request['userInfo']) ? request['userInfo'] : {};
  const parsed: ReviewRequest = { uid, operation, dryRun: request['dryRun'] === true };
  if (typeof userInfo['username'] === 'string') parsed.user = userInfo['username'];
  const isRestore = resource['group'] === 'velero.io' && resource['resource'] === 'restores';
  if (operation === 'CREATE' && isRestore) {
    const object = request['object'];
    if (!isMap(object)) throw new MalformedReview('request.object: a CREATE carries the Restore');
    parsed.restore = object;
  }
  return parsed;
}

/** The AdmissionReview answer; a denial carries status.code 403 and the message `velero` prints. */
export function reviewResponse(uid: string, answer: ReviewAnswer): Record<string, unknown> {
  const response: Record<string, unknown> = { uid, allowed: answer.allowed };
  if (!answer.allowed) response['status'] = { code: 403, reason: 'Forbidden', message: answer.message ?? 'denied by drift-detector' };
  const warnings = answer.warnings
    .slice(0, MAX_WARNINGS)
    .map((w) => (w.length > MAX_WARNING_LENGTH ? `${w.slice(0, MAX_WARNING_LENGTH - 1)}…` : w));
  if (answer.warnings.length > MAX_WARNINGS) warnings.push(`and ${answer.warnings.length - MAX_WARNINGS} more warnings (see the service log)`);
  if (warnings.length) response['warnings'] = warnings;
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
