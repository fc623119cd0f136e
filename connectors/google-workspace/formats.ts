import type { RecordFormat } from '../../src/pipeline/formats.js';
import { looksLikeActivity, type Activity } from './activity.js';
import { normalizeActivity } from './normalize-activity.js';
import { looksLikeCenterAlert, normalizeCenterAlert, type CenterAlert } from './normalize-alert.js';

/** Raw Google records `vigie replay` and the file connector recognise by shape (DESIGN §4). */
export const googleWorkspaceFormats: RecordFormat[] = [
  {
    name: 'google-workspace-reports-activity',
    detect: looksLikeActivity,
    normalize: (record, source) => normalizeActivity(record as Activity, source),
  },
  {
    name: 'google-workspace-alert-center-alert',
    detect: looksLikeCenterAlert,
    normalize: (record, source) => normalizeCenterAlert(record as CenterAlert, source),
  },
];
