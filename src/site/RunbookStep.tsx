// Shown above each executable block: what it is, how long it may take, what it needs and what undoes it.
import React from 'react';
import useBrokenLinks from '@docusaurus/useBrokenLinks';

export interface RunbookStepProps {
  id: string;
  kind: string;
  lang: string;
  phase?: string;
  timeout: string;
  retries: string;
  requires?: string;
  rollback?: string;
  confirm?: string;
  section: string;
}

export const stepAnchor = (id: string): string => `step-${id}`;

export default function RunbookStep(props: RunbookStepProps): React.JSX.Element {
  useBrokenLinks().collectAnchor(stepAnchor(props.id));
  const kind = props.kind === 'check' && props.phase ? `check (${props.phase})` : props.kind;
  return (
    <div
      className={`runbook-step runbook-step--${props.kind}`}
      id={stepAnchor(props.id)}
      data-step-id={props.id}
      data-kind={props.kind}
    >
      <span className="runbook-step__kind">{kind}</span>
      <code className="runbook-step__id">{props.id}</code>
      <span className="runbook-step__meta">timeout {props.timeout}</span>
      {props.retries !== '0' && <span className="runbook-step__meta">{props.retries} retries</span>}
      {props.requires && <span className="runbook-step__meta">requires {props.requires}</span>}
      {props.rollback && props.rollback !== 'none' && (
        <span className="runbook-step__meta">
          undone by <a href={`#${stepAnchor(props.rollback)}`}>{props.rollback}</a>
        </span>
      )}
      {props.rollback === 'none' && <span className="runbook-step__meta">nothing to undo</span>}
      {props.confirm && <span className="runbook-step__meta runbook-step__confirm">needs confirmation</span>}
    </div>
  );
}
