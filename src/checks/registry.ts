// Every check the framework knows, and which of them each phase runs when the configuration
// does not say otherwise.
import type { CheckDefinition, ValidationPhase } from './types.js';
import {
  postgresBlockingLocks,
  postgresConnections,
  postgresIntegrity,
  postgresLongTransactions,
  postgresReachable,
  postgresReplicationLag,
} from './library/postgres.js';
import { diskSpace, memoryHeadroom } from './library/host.js';
import { backupFresh } from './library/backup.js';
import { ledgerConsistent } from './library/ledger.js';
import { snapshotBaseline, snapshotIdentical } from './library/snapshot.js';
import { pythonEnvironment } from './library/python.js';
import { httpHealth } from './library/http.js';
import { packageVersions } from './library/packages.js';
import { containerImage } from './library/container.js';
import { configSchema } from './library/config-schema.js';
import { appCompatibility } from './library/compatibility.js';
import { kubernetesManifests, kubernetesRollout } from './library/kubernetes.js';
import { postgresLeastPrivilege, postgresTls, securityPermissions, securityScripts } from './library/security.js';

export const CHECKS: ReadonlyArray<CheckDefinition<any>> = [
  postgresReachable,
  postgresConnections,
  postgresLongTransactions,
  postgresBlockingLocks,
  postgresReplicationLag,
  postgresIntegrity,
  diskSpace,
  memoryHeadroom,
  backupFresh,
  ledgerConsistent,
  snapshotBaseline,
  snapshotIdentical,
  pythonEnvironment,
  httpHealth,
  packageVersions,
  containerImage,
  configSchema,
  appCompatibility,
  kubernetesManifests,
  kubernetesRollout,
  securityPermissions,
  securityScripts,
  postgresTls,
  postgresLeastPrivilege,
];

export const CHECK_TYPES: readonly string[] = CHECKS.map((c) => c.type);

export function checkDefinition(type: string): CheckDefinition<any> | undefined {
  return CHECKS.find((c) => c.type === type);
}

export const DEFAULT_PHASES: Record<ValidationPhase, string[]> = {
  // Is it safe to begin? Connectivity, resources, backups, nothing in the way; then the baseline.
  'pre-upgrade': [
    'postgres.reachable',
    'postgres.connections',
    'postgres.long-transactions',
    'postgres.blocking-locks',
    'postgres.replication-lag',
    'host.disk-space',
    'host.memory',
    'backup.fresh',
    'ledger.consistent',
    'python.environment',
    'http.health',
    'packages.versions',
    'container.image',
    'config.schema',
    'snapshot.baseline',
  ],
  // Did it work? Versions, health, integrity.
  'post-upgrade': [
    'postgres.reachable',
    'postgres.integrity',
    'ledger.consistent',
    'python.environment',
    'http.health',
    'packages.versions',
    'container.image',
    'config.schema',
  ],
  // Are we back where we were? The baseline compared, and nothing half-done left behind.
  'post-rollback': [
    'postgres.reachable',
    'postgres.integrity',
    'snapshot.identical',
    'ledger.consistent',
    'http.health',
  ],
};
