using SegSharp.Runtime;

namespace SegSharp.Cli;

/// <summary>
/// A command body inside the job's collective: Open MPI's under mpirun (initialised here, finalised when the body
/// returns), one process otherwise. A process that fails ends the whole job (MPI_Abort) after printing its error, so
/// the other processes never wait in a collective for it.
/// </summary>
public static class Distributed
{
    public static int Run(Func<ICollective, int> body)
    {
        ICollective collective;
        try
        {
            collective = Collectives.FromEnvironment();
        }
        catch (SegSharpException e)
        {
            Console.Error.WriteLine($"{CommandLine.ErrorPrefix}{e.Message}");
            return CommandLine.BadInput;
        }
        using (collective)
        {
            int code;
            try
            {
                code = body(collective);
            }
            catch (Exception e) when (collective.Size > 1)
            {
                Console.Error.WriteLine($"{CommandLine.ErrorPrefix}{e}");
                collective.Abort(1);
                throw;
            }
            if (collective.Size > 1 && code is not (0 or CommandLine.Interrupted)) collective.Abort(code);
            return code;
        }
    }
}
