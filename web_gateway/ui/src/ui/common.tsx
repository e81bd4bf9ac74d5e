// Small pieces every page uses: a panel with its own error boundary, empty and error states,
// and the labels that say a figure is an estimate or a time-share split.
import { Component, type ErrorInfo, type ReactNode } from "react";
import { Attribution, type Energy } from "../gen/eprof/v1/profiler_pb";
import { Quality } from "../gen/eprof/v1/power_pb";
import { attributionLabel, qualityLabel } from "../names";

interface BoundaryProps { name: string; children: ReactNode }
interface BoundaryState { error?: Error }

/** Catches a panel's render errors so one failing panel never blanks the page. */
export class ErrorBoundary extends Component<BoundaryProps, BoundaryState> {
  state: BoundaryState = {};
  static getDerivedStateFromError(error: Error): BoundaryState { return { error }; }
  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`panel ${this.props.name} failed`, error, info.componentStack);
  }
  render(): ReactNode {
    if (this.state.error) {
      return (
        <div className="panel-error" role="alert" data-testid="panel-error">
          <strong>{this.props.name}</strong> could not be drawn: {this.state.error.message}.{" "}
          <button type="button" onClick={() => this.setState({ error: undefined })}>Try again</button>
        </div>
      );
    }
    return this.props.children;
  }
}

export function Panel(props: { title: string; testId?: string; wide?: boolean; extra?: ReactNode; children: ReactNode }) {
  return (
    <section className={props.wide ? "panel wide" : "panel"} aria-label={props.title}>
      <header className="panel-head">
        <h2>{props.title}</h2>
        {props.extra}
      </header>
      <ErrorBoundary name={props.title}>
        <div className="panel-body" data-testid={props.testId}>{props.children}</div>
      </ErrorBoundary>
    </section>
  );
}

export function Empty(props: { children: ReactNode }) {
  return <p className="empty">{props.children}</p>;
}

export function ErrorLine(props: { error?: string; what?: string }) {
  if (!props.error) return null;
  return <p className="error" role="alert">{props.what ? `${props.what}: ` : ""}{props.error}</p>;
}

/** "estimate" / "time share" tags beside a figure whose energy is not a plain measurement. */
export function EnergyTags(props: { energy?: Energy }) {
  const e = props.energy;
  if (!e || e.attribution === Attribution.NONE || e.attribution === Attribution.UNSPECIFIED) return null;
  return (
    <>
      {(e.quality === Quality.ESTIMATED || e.quality === Quality.UNSPECIFIED) && (
        <span className="tag estimate" title="modelled from CPU use, not measured">{qualityLabel(Quality.ESTIMATED)}</span>
      )}
      {e.attribution === Attribution.TIME_SHARE && (
        <span className="tag share" title="split by each part's share of the time, not measured per part">{attributionLabel(e.attribution)}</span>
      )}
    </>
  );
}
