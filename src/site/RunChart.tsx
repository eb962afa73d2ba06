// The chart beside a procedure's step durations: the machine's CPU, PostgreSQL's active sessions
// and what the procedure measured over time (e.g. the load's throughput and p99 latency), across
// its steps. Plain SVG rendered at build time: no chart library reaches the browser.
import React from 'react';
import type { RunChart as ChartData } from '../agents/last-runs';

const WIDTH = 640;
const HEIGHT = 150;
const TOP = 8;
const BOTTOM = 20;
const COLORS = ['#2e8555', '#1f6feb', '#d97706', '#b42318', '#7c3aed', '#0e7490'];

interface Line {
  key: string;
  label: string;
  unit: string;
  points: Array<[number, number]>;
  /** The value at the top of the chart (100 for CPU %, else the line's own peak). */
  top: number;
}

const fmt = (n: number): string => (Math.abs(n) >= 100 ? String(Math.round(n)) : String(Math.round(n * 10) / 10));
const ms = (n: number): string => (n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`);

export function linesOf(chart: ChartData): Line[] {
  const peak = (points: Array<[number, number]>) => Math.max(1e-9, ...points.map(([, v]) => v));
  const lines: Line[] = [];
  if (chart.cpu.length > 0) lines.push({ key: 'cpu', label: 'CPU (machine)', unit: '%', points: chart.cpu, top: 100 });
  if (chart.sessions && chart.sessions.length > 0)
    lines.push({
      key: 'sessions',
      label: 'active sessions',
      unit: '',
      points: chart.sessions,
      top: peak(chart.sessions),
    });
  for (const [name, s] of Object.entries(chart.series).sort(([a], [b]) => a.localeCompare(b)))
    if (s.points.length > 0)
      lines.push({ key: name, label: name, unit: s.unit, points: s.points, top: peak(s.points) });
  return lines;
}

export default function RunChart({ chart }: { chart: ChartData }): React.JSX.Element | null {
  const lines = linesOf(chart);
  if (lines.length === 0) return null;
  const x = (t: number) => (t / chart.spanMs) * WIDTH;
  const y = (v: number, top: number) => TOP + (HEIGHT - TOP - BOTTOM) * (1 - Math.min(1, v / top));
  const forward = chart.steps.filter((s) => s.phase === 'forward');
  return (
    <figure className="runbook-chart" data-testid="run-chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        role="img"
        aria-label={`Resource use and measurements across the steps, over ${ms(chart.spanMs)}`}
      >
        {forward.map((s, i) => (
          <g key={`${s.stepId}-${i}`} data-step={s.stepId}>
            <rect
              x={x(s.fromMs)}
              y={TOP}
              width={Math.max(0.5, x(s.toMs) - x(s.fromMs))}
              height={HEIGHT - TOP - BOTTOM}
              className={i % 2 === 0 ? 'runbook-chart__band' : 'runbook-chart__band runbook-chart__band--odd'}
            >
              <title>{`${s.stepId}: ${ms(s.toMs - s.fromMs)}`}</title>
            </rect>
            {x(s.toMs) - x(s.fromMs) > 60 && (
              <text x={x(s.fromMs) + 3} y={HEIGHT - 6} className="runbook-chart__step">
                {s.stepId}
              </text>
            )}
          </g>
        ))}
        {lines.map((line, i) => (
          <polyline
            key={line.key}
            data-series={line.key}
            fill="none"
            stroke={COLORS[i % COLORS.length]}
            strokeWidth={1.5}
            points={line.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v, line.top).toFixed(1)}`).join(' ')}
          />
        ))}
      </svg>
      <figcaption>
        {lines.map((line, i) => (
          <span key={line.key} className="runbook-chart__legend">
            <span style={{ color: COLORS[i % COLORS.length] }}>━</span> {line.label} (peak{' '}
            {fmt(Math.max(...line.points.map(([, v]) => v)))}
            {line.unit ? ` ${line.unit}` : ''})
          </span>
        ))}
        <span className="runbook-chart__legend">over {ms(chart.spanMs)}; shaded bands are the steps</span>
      </figcaption>
    </figure>
  );
}
