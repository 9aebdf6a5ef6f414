/// The report templates (Mustache). Markdown uses triple braces (no HTML
/// escaping); in the HTML page every value is escaped by the template engine, and
/// the page has no external assets, so it can be mailed or archived as one file.
enum ReportTemplates {
  static let markdown = """
    # {{{title}}} — run {{{runID}}}

    | | |
    | --- | --- |
    | Runbook | `{{{runbook}}}` |
    | Environment | {{{environment}}} |
    | State | **{{{state}}}** |
    | Started | {{{started}}} |
    | Ended | {{{ended}}} |
    | Duration | {{{duration}}} |
    | Operator | {{{operatorName}}} on {{{machine}}} |
    | nexus-dr | {{{toolVersion}}} |
    | Resumed | {{{resumes}}} time(s) |
    {{#hasHostOverrides}}
    | Hosts overridden (--host) | {{{hostOverrides}}} |
    {{/hasHostOverrides}}
    {{#hasInputs}}

    ## Inputs

    {{#inputs}}
    - `{{{key}}}` = `{{{value}}}`
    {{/inputs}}
    {{/hasInputs}}
    {{#hasPreflight}}

    ## Preflight

    | Check | Result | Evidence |
    | --- | --- | --- |
    {{#preflight}}
    | {{{title}}} | {{#passed}}pass{{/passed}}{{^passed}}**FAIL**{{/passed}} | {{{evidence}}} |
    {{/preflight}}
    {{/hasPreflight}}

    ## Steps

    | # | Step | Host | Status | Duration | Attempts |
    | --- | --- | --- | --- | --- | --- |
    {{#steps}}
    | {{{index}}} | {{{title}}} (`{{{id}}}`) | {{{host}}} | {{{status}}} | {{{duration}}} | {{{attempts}}} |
    {{/steps}}
    {{#steps}}
    {{#hasError}}

    ### {{{index}}}. {{{title}}} — {{{status}}}

    ```
    {{{error}}}
    ```
    {{/hasError}}
    {{/steps}}
    {{#hasAnswers}}

    ## Operator answers

    | Question | Answer | From |
    | --- | --- | --- |
    {{#answers}}
    | `{{{question}}}` | {{{answer}}} | {{{source}}} |
    {{/answers}}
    {{/hasAnswers}}

    ## Outputs

    {{#steps}}
    {{#hasOutputs}}
    - **{{{id}}}**: {{#outputs}}`{{{key}}}`={{{value}}}; {{/outputs}}
    {{/hasOutputs}}
    {{/steps}}

    """

  /// The styles both HTML reports (a run's, a rehearsal's) share: colours, type, code.
  static let baseStyle = """
      :root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; }
      body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1f2328; }
      code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
      dt { color: var(--muted); }
    """

  static let html = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} — run {{runID}}</title>
    <style>
    \(baseStyle)
      h1 { font-size: 1.6rem; margin-bottom: .2rem; }
      .sub { color: var(--muted); margin-top: 0; }
      .state { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; color: #fff; font-weight: 600; }
      .state.completed { background: var(--ok); } .state.failed, .state.preflight-failed, .state.declined { background: var(--bad); }
      .state.interrupted, .state.running { background: var(--warn); }
      table { border-collapse: collapse; width: 100%; margin: .8rem 0 1.4rem; }
      th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
      th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
      pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
      .timeline { margin: 1rem 0 2rem; }
      .row { display: grid; grid-template-columns: 16rem 1fr 6rem; align-items: center; gap: .6rem; padding: .2rem 0; }
      .label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
      .track { position: relative; height: 1.1rem; background: #f6f8fa; border-radius: 3px; }
      .bar { position: absolute; top: 0; bottom: 0; border-radius: 3px; min-width: 3px; }
      .bar.completed { background: var(--ok); } .bar.failed, .bar.declined { background: var(--bad); }
      .bar.continued, .bar.interrupted { background: var(--warn); } .bar.skipped, .bar.not.run { background: #afb8c1; }
      .dur { text-align: right; color: var(--muted); font-variant-numeric: tabular-nums; }
      .status.completed { color: var(--ok); } .status.failed, .status.declined { color: var(--bad); font-weight: 600; }
      .status.continued, .status.interrupted { color: var(--warn); font-weight: 600; }
      .pass { color: var(--ok); font-weight: 600; } .fail { color: var(--bad); font-weight: 600; }
      dl { display: grid; grid-template-columns: 9rem 1fr; gap: .2rem 1rem; }
    </style>
    </head>
    <body>
    <h1>{{title}}</h1>
    <p class="sub">Run <code>{{runID}}</code> · environment <strong>{{environment}}</strong> · <span class="state {{state}}">{{state}}</span></p>
    <dl>
      <dt>Started</dt><dd>{{started}}</dd>
      <dt>Ended</dt><dd>{{ended}}</dd>
      <dt>Duration</dt><dd>{{duration}}</dd>
      <dt>Operator</dt><dd>{{operatorName}} on {{machine}}</dd>
      <dt>Runbook</dt><dd><code>{{runbook}}</code>, nexus-dr {{toolVersion}}, resumed {{resumes}} time(s)</dd>
      {{#hasHostOverrides}}<dt>Hosts overridden</dt><dd><code>{{hostOverrides}}</code> (--host, for this run only)</dd>{{/hasHostOverrides}}
    </dl>

    <h2>Timeline</h2>
    <div class="timeline">
    {{#steps}}
      <div class="row">
        <div class="label" title="{{title}}">{{index}}. {{title}}</div>
        <div class="track"><div class="bar {{status}}" style="left: {{barLeft}}%; width: {{barWidth}}%;" title="{{id}}: {{status}}, {{duration}}"></div></div>
        <div class="dur">{{duration}}</div>
      </div>
    {{/steps}}
    </div>
    {{#hasPreflight}}

    <h2>Preflight</h2>
    <table>
      <tr><th>Check</th><th>Result</th><th>Evidence</th></tr>
    {{#preflight}}
      <tr><td>{{title}}</td><td>{{#passed}}<span class="pass">pass</span>{{/passed}}{{^passed}}<span class="fail">FAIL</span>{{/passed}}</td><td><code>{{evidence}}</code></td></tr>
    {{/preflight}}
    </table>
    {{/hasPreflight}}

    <h2>Steps</h2>
    <table>
      <tr><th>#</th><th>Step</th><th>Host</th><th>Status</th><th>Duration</th><th>Command / outputs</th></tr>
    {{#steps}}
      <tr>
        <td>{{index}}</td>
        <td>{{title}}<br><code>{{id}}</code></td>
        <td>{{host}}</td>
        <td class="status {{status}}">{{status}}{{#note}}<br><small>{{note}}</small>{{/note}}</td>
        <td>{{duration}}</td>
        <td><code>{{command}}</code>{{#hasOutputs}}<br>{{#outputs}}<code>{{key}}</code>=<code>{{value}}</code> {{/outputs}}{{/hasOutputs}}{{#hasError}}<pre>{{error}}</pre>{{/hasError}}</td>
      </tr>
    {{/steps}}
    </table>
    {{#hasInputs}}

    <h2>Inputs</h2>
    <table>
    {{#inputs}}
      <tr><td><code>{{key}}</code></td><td><code>{{value}}</code></td></tr>
    {{/inputs}}
    </table>
    {{/hasInputs}}
    {{#hasAnswers}}

    <h2>Operator answers</h2>
    <table>
      <tr><th>Question</th><th>Answer</th><th>From</th></tr>
    {{#answers}}
      <tr><td><code>{{question}}</code></td><td>{{answer}}</td><td>{{source}}</td></tr>
    {{/answers}}
    </table>
    {{/hasAnswers}}
    </body>
    </html>

    """
}
