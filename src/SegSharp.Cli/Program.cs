using SegSharp.Cli;
using SegSharp.Runtime;

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
return CommandLine.Build().Parse(args).Invoke();
