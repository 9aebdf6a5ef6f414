/// An inventory whose one environment, `test`, runs everything on this machine.
let localInventory = """
  default: test
  environments:
    test:
      hosts:
        server: { transport: local }

  """

/// A runbook with an input, a check, a question and a destructive step; what `plan` shows of it
/// is in PlanTests (its sha256 begins a92b29e4d863).
let twoStepsRunbook = """
  runbook: two-steps
  title: Two steps and a question
  inputs:
    word: { description: the word step one prints }
    times: { description: how many, default: "2" }
  preflight:
    - { id: true-runs, title: true runs on the server, host: server, argv: ["true"] }
  steps:
    - { id: one, title: Print the word, host: server, action: shell, with: { argv: [echo, "{{ inputs.word }}"] } }
    - { id: go, title: Ask, action: confirm, with: { text: "Go on?" } }
    - { id: two, title: Print again, host: server, action: shell, destructive: true, timeout: 1m, with: { command: "echo {{ inputs.times }}" } }

  """

/// A runbook the loader refuses: an action that does not exist, on line 3, column 36.
let malformedRunbook = """
  runbook: broken
  steps:
    - { id: a, host: server, action: nosuch }

  """
