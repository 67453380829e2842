using System.CommandLine;
using SegSharp.Runtime;

namespace SegSharp.Cli;

/// <summary><c>segsharp info</c>: versions, threads and whether libtorch loads here.</summary>
public static class InfoCommand
{
    public static Command Build()
    {
        var info = new Command("info", "Show SegSharp, TorchSharp and libtorch versions, and check that libtorch loads.");
        info.SetAction(_ => CommandLine.Guard(() =>
        {
            var environment = RunEnvironment.Capture(0);
            foreach (var (key, value) in environment.ToPairs()) Console.WriteLine($"{key}: {value}");
            Console.WriteLine($"inference_precision_auto: {Models.ComputePrecision.Resolve(Configuration.InferencePrecision.Auto)}");
            return 0;
        }));
        return info;
    }
}
