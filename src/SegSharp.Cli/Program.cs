using SegSharp.Cli;
using SegSharp.Runtime;

// First, before any output or native library: the process replaces itself once with malloc's huge pages switched on
// (same id, arguments and environment plus GLIBC_TUNABLES; docs/performance.md measures what it is worth).
MallocHugePages.AdoptByReexecuting();

// File names and messages may hold terminal escape sequences: shown, never obeyed. Spectre's live progress keeps the raw
// stream (its own sequences draw the bar) and escapes the text it is given.
Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
{
    Out = new Spectre.Console.AnsiConsoleOutput(Console.Out),
});
using var stdout = new PrintableWriter(Console.Out);
using var stderr = new PrintableWriter(Console.Error);
Console.SetOut(stdout);
Console.SetError(stderr);

// libtorch's log level is process-wide and must be chosen before the first native call a command makes.
if (args.Contains(CommandLine.VerboseOption)) TorchRuntime.ShowNativeLogs();
var parsed = CommandLine.Build().Parse(args);
// A command line that does not parse is bad input like any other: one line per problem and exit code 2 (the parser's own
// default is 1, which SegSharp means as "problems found").
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    string command = parsed.CommandResult.Command is System.CommandLine.RootCommand ? "" : parsed.CommandResult.Command.Name + " ";
    Console.Error.WriteLine($"(segsharp {command}--help lists the commands and options)");
    return CommandLine.BadInput;
}
return parsed.Invoke();
