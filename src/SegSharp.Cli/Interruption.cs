using System.Runtime.InteropServices;

namespace SegSharp.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM turned into a cancellation the command finishes its current unit of work on (a training
/// step, an image), instead of the runtime ending the process mid-write. Dispose to restore the default handling.
/// </summary>
public sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConsoleCancelEventHandler _onCancel;
    private readonly PosixSignalRegistration _term;

    private Interruption(string? announce)
    {
        _onCancel = (_, e) =>
        {
            e.Cancel = true;
            if (announce is not null && !_stop.IsCancellationRequested) Console.Error.WriteLine(announce);
            _stop.Cancel();
        };
        Console.CancelKeyPress += _onCancel;
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            _stop.Cancel();
        });
    }

    /// <param name="announce">Printed on stderr at the first Ctrl-C (null: nothing).</param>
    public static Interruption Catch(string? announce) => new(announce);

    public CancellationToken Token => _stop.Token;

    public bool IsCancellationRequested => _stop.IsCancellationRequested;

    public void Dispose()
    {
        Console.CancelKeyPress -= _onCancel;
        _term.Dispose();
        _stop.Dispose();
    }
}
