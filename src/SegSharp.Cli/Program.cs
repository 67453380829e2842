using SegSharp.Cli;
using SegSharp.Runtime;

// libtorch's log level is process-wide and must be chosen before the first native call a command makes.
if (args.Contains(CommandLine.VerboseOption)) TorchRuntime.ShowNativeLogs();
return CommandLine.Build().Parse(args).Invoke();
