// Shown under each runbook heading: the command that runs it, when it was last verified (from
// the runner's result records; stale when the section changed since), each step's duration,
// and the flow of steps with their rollbacks.
import React from 'react';
import { usePluginData } from '@docusaurus/useGlobalData';
// The shape the site plugin publishes (a type only: nothing of the plugin reaches the browser).
import type { LastRun } from '../agents/last-runs';
import RunChart from './RunChart';

interface Flow {
  forward: Array<{ id: string; kind: string; rollback?: string | null }>;
  verify: string[];
  teardown: string[];
}

export interface RunbookSectionProps {
  address: string;
  contentHash: string;
  command: string;
  requires?: string;
  flow: string;
}

const ms = (n: number): string => (n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(1)} s`);
const VERDICT: Record<string, string> = {
  succeeded: 'passed',
  'rolled-back': 'failed, rolled back',
  'rollback-incomplete': 'failed, rollback incomplete',
  'teardown-failed': 'teardown failed',
  failed: 'failed',
};

/** Where a run happened: the commit of a published record, the platform and the versions. */
function where(run: LastRun): string {
  const parts: string[] = [];
  if (run.commit) parts.push(`commit ${run.commit.slice(0, 7)}${run.dirty ? ' with uncommitted changes' : ''}`);
  if (run.environment)
    parts.push(
      [
        `${run.environment.platform} ${run.environment.arch}`,
        `Node ${run.environment.node}`,
        // Recorded as `<embedded|external> <version>`.
        run.environment.postgres?.replace(/^(embedded|external) (.+)$/, (_m, kind: string, version: string) =>
          kind === 'embedded' ? `PostgreSQL ${version} (embedded)` : `PostgreSQL ${version}`,
        ),
      ]
        .filter(Boolean)
        .join(', '),
    );
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

export default function RunbookSection(props: RunbookSectionProps): React.JSX.Element {
  const data = usePluginData('docusaurus-exec-doc') as { lastRuns: Record<string, LastRun> } | undefined;
  const run = data?.lastRuns[props.address];
  const flow = JSON.parse(props.flow) as Flow;
  const stale = run !== undefined && run.contentHash !== props.contentHash;
  return (
    <div className="runbook-section" data-address={props.address}>
      <div className="runbook-section__command">
        <span>Run it:</span> <code>{props.command}</code>
        {props.requires && <span className="runbook-section__requires">requires {props.requires}</span>}
      </div>
      <div
        className={`runbook-verified ${run ? (stale ? 'runbook-verified--stale' : `runbook-verified--${run.status}`) : 'runbook-verified--never'}`}
        data-testid="last-verified"
      >
        {run?.status === 'requirements-missing' ? (
          <>
            <strong>Cannot be verified on the verification machine</strong> (checked{' '}
            {run.finishedAt.slice(0, 16).replace('T', ' ')} UTC{where(run)}): {run.missing?.join('; ')}
            {stale && <em> — stale: the procedure changed since</em>}
          </>
        ) : run ? (
          <>
            <strong>Last verified</strong> {run.finishedAt.slice(0, 16).replace('T', ' ')} UTC{where(run)}:{' '}
            {VERDICT[run.status] ?? run.status} in {ms(run.durationMs)}
            {stale && <em> — stale: the procedure changed since this run</em>}
            {run.chart && <RunChart chart={run.chart} />}
            <details>
              <summary>Step durations</summary>
              <table>
                <tbody>
                  {run.steps.map((s) => (
                    <React.Fragment key={`${s.phase}-${s.stepId}`}>
                      <tr>
                        <td>
                          <code>{s.stepId}</code>
                        </td>
                        <td>{s.phase}</td>
                        <td>{s.status}</td>
                        <td>{ms(s.durationMs)}</td>
                      </tr>
                      {s.checks?.map((c) => (
                        <tr
                          key={`${s.phase}-${s.stepId}-${c.name}`}
                          className={`runbook-check runbook-check--${c.status}`}
                          data-check={c.name}
                        >
                          <td>
                            ↳ <code>{c.name}</code>
                          </td>
                          <td>check</td>
                          <td>{c.status}</td>
                          <td>{c.value ?? ''}</td>
                        </tr>
                      ))}
                    </React.Fragment>
                  ))}
                </tbody>
              </table>
            </details>
            {run.hosts && (
              <details data-testid="hosts">
                <summary>
                  Hosts: {run.hosts.filter((h) => h.state === 'upgraded').length} of {run.hosts.length} upgraded
                </summary>
                <table>
                  <tbody>
                    {run.hosts.map((h) => (
                      <tr key={h.host} className={`runbook-host runbook-host--${h.state}`}>
                        <td>
                          <code>{h.host}</code>
                        </td>
                        <td>batch {h.batch}</td>
                        <td>{h.state}</td>
                        <td>{h.failedTask ? `failed at ${h.failedTask}` : ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </details>
            )}
          </>
        ) : (
          <span>Not verified yet: no run of this procedure is recorded.</span>
        )}
      </div>
      <ol className="runbook-flow" aria-label="Steps and their rollbacks">
        {flow.forward.map((s) => (
          <li key={s.id}>
            <a href={`#step-${s.id}`}>{s.id}</a> <span className="runbook-flow__kind">{s.kind}</span>
            {s.rollback && (
              <>
                {' '}
                ↺ <a href={`#step-${s.rollback}`}>{s.rollback}</a>
              </>
            )}
          </li>
        ))}
      </ol>
      {flow.verify.length > 0 && <div className="runbook-flow__after">After a rollback: {flow.verify.join(', ')}</div>}
      {flow.teardown.length > 0 && (
        <div className="runbook-flow__after">Always at the end: {flow.teardown.join(', ')}</div>
      )}
    </div>
  );
}
