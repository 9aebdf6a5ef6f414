import NexusCLI

await NexusDR.runMain()
