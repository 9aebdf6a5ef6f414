// The rehearsal report's templates (Mustache), as the run report's in ReportTemplates: Markdown
// with triple braces (no escaping), the HTML page with every value escaped and no external assets.
extension RehearsalReport {
  static let markdown = """
    # Rehearsal: {{{scenario}}} in {{{environment}}} — {{{outcomeText}}}

    | | |
    | --- | --- |
    | Failure injected | {{{failure}}}, at {{{injected}}} |
    | Recovered (service verified) | {{{recoveredAt}}} |
    | **Recovery time** | **{{{recovery}}}** — objective {{{rto}}}: {{{rtoVerdict}}} |
    | **Data lost** | **{{{lossText}}}** — objective {{{rpo}}}: {{{rpoVerdict}}} |
    {{#hasLossWindow}}
    | Data-loss window | {{{lossWindow}}} |
    {{/hasLossWindow}}
    | Verification | {{#verified}}passed{{/verified}}{{^verified}}**FAILED**{{/verified}} |
    {{#hasRun}}
    | Recovery run | `{{{runID}}}` (`nexus-dr report {{{runID}}}`) |
    {{/hasRun}}
    | Rehearsal | `{{{id}}}`, by {{{operatorName}}}, nexus-dr {{{toolVersion}}} |
    {{#hasReason}}

    **Why:** {{{reason}}}
    {{/hasReason}}

    {{{lossDetail}}}

    ## Timeline (from the failure)

    | At | Took | What | Result |
    | --- | --- | --- | --- |
    {{#bars}}
    | {{{at}}} | {{{duration}}} | {{{label}}} | {{{status}}} |
    {{/bars}}

    ## Checks after the recovery

    {{#checks}}
    - {{{.}}}
    {{/checks}}

    """

  static let html = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Rehearsal: {{scenario}} in {{environment}}</title>
    <style>
    \(ReportTemplates.baseStyle)
      body { padding: 0 1.2rem; }
      h1 { font-size: 1.55rem; margin: 0 0 .2rem; }
      h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; }
      .sub { color: var(--muted); margin: 0 0 1.2rem; }
      .badge { display: inline-block; padding: .15rem .7rem; border-radius: 1rem; color: #fff; font-weight: 600; font-size: .9rem; vertical-align: middle; }
      .badge.passed { background: var(--ok); } .badge.failed { background: var(--bad); } .badge.objective-missed { background: var(--warn); }
      .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: 1rem; margin: 1rem 0; }
      .card { border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; }
      .card .k { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; }
      .card .v { font-size: 1.5rem; font-weight: 650; margin: .15rem 0; font-variant-numeric: tabular-nums; }
      .card .n { font-size: .9rem; }
      .met { color: var(--ok); font-weight: 600; } .missed { color: var(--bad); font-weight: 600; }
      .gauge { display: grid; grid-template-columns: 12rem 1fr; gap: .8rem; align-items: center; margin: 1.6rem 0 .6rem; }
      .gtrack { position: relative; height: 1.3rem; background: var(--soft); border-radius: 4px; }
      .gbar { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 4px; background: #0969da; min-width: 2px; }
      .gbar.loss { background: var(--bad); }
      .gline { position: absolute; top: -.35rem; bottom: -.35rem; width: 0; border-left: 2px dashed #1f2328; }
      .gline span { position: absolute; top: -1.3rem; right: .3rem; font-size: .75rem; white-space: nowrap; color: #1f2328; }
      .timeline { position: relative; margin: 2.2rem 0 1rem; }
      .row { display: grid; grid-template-columns: 23rem 1fr 5.5rem; gap: .7rem; align-items: center; padding: .16rem 0; }
      .label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-size: .92rem; }
      .track { position: relative; height: 1.05rem; }
      .bar { position: absolute; top: 0; bottom: 0; border-radius: 3px; min-width: 3px; }
      .bar.step.completed { background: var(--ok); } .bar.step.skipped { background: #c9d1d9; }
      .bar.failed, .bar.declined, .bar.interrupted { background: var(--bad); }
      .bar.injection { background: #8250df; } .bar.outage { background: #bf8700; } .bar.repair { background: #0969da; } .bar.restore { background: #8c959f; }
      .dur { text-align: right; color: var(--muted); font-variant-numeric: tabular-nums; font-size: .9rem; }
      .overlay { position: absolute; top: 0; bottom: 0; left: calc(23rem + .7rem); right: calc(5.5rem + .7rem); pointer-events: none; }
      .marker { position: absolute; top: -1.6rem; bottom: 0; width: 0; }
      .marker span { position: absolute; top: 0; left: .3rem; font-size: .75rem; white-space: nowrap; font-weight: 600; }
      .marker.failure { border-left: 2px solid #8250df; } .marker.failure span { color: #8250df; }
      .marker.rto { border-left: 2px dashed var(--bad); } .marker.rto span { color: var(--bad); }
      .lossband { position: absolute; top: 0; bottom: 0; background: rgba(207, 34, 46, .13); border-left: 1px solid rgba(207,34,46,.5); }
      .axis { position: relative; height: 1.2rem; margin-left: calc(23rem + .7rem); margin-right: calc(5.5rem + .7rem); border-top: 1px solid var(--line); font-size: .75rem; color: var(--muted); }
      .axis span { position: absolute; top: .15rem; transform: translateX(-50%); white-space: nowrap; }
      .axis span:first-child { transform: none; } .axis span:last-child { transform: translateX(-100%); }
      .legend { font-size: .85rem; color: var(--muted); display: flex; flex-wrap: wrap; gap: 1rem; margin-top: .4rem; }
      .legend i { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
      ul.checks { padding-left: 1.2rem; } ul.checks li { margin: .2rem 0; }
      dl { display: grid; grid-template-columns: 11rem 1fr; gap: .25rem 1rem; }
      .note { background: var(--soft); border-left: 3px solid var(--line); padding: .5rem .8rem; }
    </style>
    </head>
    <body>
    <h1>Rehearsal: {{scenario}} <span class="badge {{outcome}}">{{outcome}}</span></h1>
    <p class="sub">Environment <strong>{{environment}}</strong> · {{failure}} at {{injected}}</p>

    <div class="cards">
      <div class="card"><div class="k">Recovery time</div><div class="v">{{recovery}}</div>
        <div class="n">objective {{rto}} — <span class="{{rtoClass}}">{{rtoVerdict}}</span></div></div>
      <div class="card"><div class="k">Data lost ({{lossDevice}})</div><div class="v">{{lossValue}}</div>
        <div class="n">{{lossNote}}</div><div class="n">objective {{rpo}} — <span class="{{rpoClass}}">{{rpoVerdict}}</span></div></div>
      <div class="card"><div class="k">Verification</div><div class="v">{{#verified}}passed{{/verified}}{{^verified}}FAILED{{/verified}}</div>
        <div class="n">service verified at {{recoveredAt}}</div></div>
    </div>
    {{#hasReason}}<p class="note"><strong>Why:</strong> {{reason}}</p>{{/hasReason}}

    <h2>Against the objectives</h2>
    <div class="gauge"><div>Recovery time</div>
      <div class="gtrack"><div class="gbar" style="width: {{recoveryGaugeWidth}}%"></div>
        <div class="gline" style="left: {{rtoGaugeLeft}}%"><span>RTO {{rto}}</span></div></div></div>
    {{#hasRPOGauge}}
    <div class="gauge"><div>Data-loss window</div>
      <div class="gtrack"><div class="gbar loss" style="width: {{lossGaugeWidth}}%"></div>
        <div class="gline" style="left: {{rpoGaugeLeft}}%"><span>RPO {{rpo}}</span></div></div></div>
    {{/hasRPOGauge}}

    <h2>Timeline, from the failure to the verified service</h2>
    <div class="timeline">
      <div class="overlay">
        {{#hasLossWindow}}<div class="lossband" style="left: {{lossLeft}}%; width: {{lossWidth}}%" title="records acknowledged here were lost"></div>{{/hasLossWindow}}
        <div class="marker failure" style="left: {{failureLeft}}%"><span>failure</span></div>
        {{#hasRTOLine}}<div class="marker rto" style="left: {{rtoLeft}}%"><span>RTO {{rto}}</span></div>{{/hasRTOLine}}
      </div>
    {{#bars}}
      <div class="row">
        <div class="label" title="{{label}}">{{label}}</div>
        <div class="track"><div class="bar {{kind}} {{status}}" style="left: {{left}}%; width: {{width}}%;" title="{{label}}: {{status}}, {{duration}} from {{at}}"></div></div>
        <div class="dur">{{duration}}</div>
      </div>
    {{/bars}}
    </div>
    <div class="axis">{{#ticks}}<span style="left: {{left}}%">{{text}}</span>{{/ticks}}</div>
    <div class="legend"><span><i style="background:#8250df"></i>failure injected</span><span><i style="background:#bf8700"></i>during the outage</span>
      <span><i style="background:#0969da"></i>repair (by a person)</span><span><i style="background:#1a7f37"></i>recovery step</span>
      <span><i style="background:#c9d1d9"></i>skipped</span>{{#hasLossWindow}}<span><i style="background:rgba(207,34,46,.3)"></i>data-loss window</span>{{/hasLossWindow}}</div>

    <h2>Data loss</h2>
    <p>{{lossText}}.{{#hasLossWindow}} Lost records were acknowledged {{lossWindow}}.{{/hasLossWindow}}</p>
    <p>{{lossDetail}}</p>

    <h2>Checks after the recovery</h2>
    <ul class="checks">
    {{#checks}}
      <li>{{.}}</li>
    {{/checks}}
    </ul>

    <h2>About this rehearsal</h2>
    <dl>
      <dt>Rehearsal</dt><dd><code>{{id}}</code></dd>
      {{#hasRun}}<dt>Recovery run</dt><dd><code>{{runID}}</code> — its own report: <code>nexus-dr report {{runID}} --format html</code></dd>{{/hasRun}}
      <dt>Operator</dt><dd>{{operatorName}}, nexus-dr {{toolVersion}}</dd>
    </dl>
    </body>
    </html>

    """
}
