using SegSharp.Cli;

return CommandLine.Build().Parse(args).Invoke();
