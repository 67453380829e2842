using System.IO.Compression;
using System.Xml.Linq;
using SegSharp.Build;

namespace SegSharp.Tests.Packaging;

/// <summary>
/// The two packages as a user gets them: `dotnet pack` of the library (SegSharp) and of the command line as a .NET tool
/// (SegSharp.Tool, command segsharp), the tool installed from the local package folder into a temporary tool path and
/// run (info, then a one-epoch train), and a new project that references the library package and trains with it.
/// Both must load libtorch on this Debian 12 system, which needs the native-bridge fix inside the packages.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public sealed class PackageTests : IDisposable
{
    private readonly string _root = TestPaths.TempFolder("packages");
    private string Feed => Path.Combine(_root, "feed");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_tool_package_installs_and_trains_and_the_library_package_works_in_a_new_project()
    {
        string version = Version();
        ForgetCachedBuilds(version);
        // scripts/pack.sh is what the release workflow runs.
        Run("bash", TestPaths.RepositoryRoot, Path.Combine(TestPaths.RepositoryRoot, "scripts", "pack.sh"), Feed);
        Assert.True(File.Exists(Path.Combine(Feed, $"SegSharp.{version}.nupkg")));
        Assert.True(File.Exists(Path.Combine(Feed, $"SegSharp.Tool.{version}.nupkg")));
        Assert.True(File.Exists(Path.Combine(Feed, $"SegSharp.Tool.linux-x64.{version}.nupkg")));
        CheckLibraryPackage(Path.Combine(Feed, $"SegSharp.{version}.nupkg"), version);

        // The tool, from the local folder, into its own tool path; run from a folder outside the repository.
        string tools = Path.Combine(_root, "tools"), work = Path.Combine(_root, "work");
        Directory.CreateDirectory(work);
        Run("dotnet", work, "tool", "install", "SegSharp.Tool", "--add-source", Feed, "--tool-path", tools, "--version", version);
        string segsharp = Path.Combine(tools, "segsharp");
        var info = Run(segsharp, work, "info");
        Assert.Contains($"segsharp: {version}", info, StringComparison.Ordinal);
        Assert.Contains("libtorch: 2.10.0", info, StringComparison.Ordinal);
        var train = Run(segsharp, work, "train", "--quiet", "--set", "train.epochs=1", "--set", "train.iters_per_epoch=3", "--set", "output.dir=run");
        Assert.Matches("weights sha256: [0-9a-f]{64}", train);
        Assert.True(File.Exists(Path.Combine(work, "run", "report", "report.html")));
        // The installed native bridge is the patched one (its GLIBCXX_3.4.32 need weak), whatever the packing machine had.
        string bridge = Directory.EnumerateFiles(tools, "libLibTorchSharp.so", SearchOption.AllDirectories).Single();
        Assert.True(ElfVersionNeeds.ReadNeeds(File.ReadAllBytes(bridge)).Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);

        // The library, referenced as a package by a new project (NuGet's cache serves the dependencies offline).
        string consumer = Path.Combine(_root, "consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><clear /><add key="local" value="{Feed}" /></packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
              <ItemGroup><PackageReference Include="SegSharp" Version="{version}" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using SegSharp.Configuration;
            using SegSharp.Runtime;
            using SegSharp.Training;
            var config = SegSharpConfig.Load(null, new[] { "train.epochs=1", "train.iters_per_epoch=2", $"output.dir={args[0]}" });
            ProcessPolicy.Apply(config.Train.Threads);
            var result = new Trainer(config, new[] { new Lines() }).Run();
            Console.WriteLine($"trained {result.State.GlobalStep} steps, weights {result.WeightsHash}");
            Console.WriteLine($"pretrained encoder beside the app: {File.Exists(Path.Combine(AppContext.BaseDirectory, "pretrained", "mlnet-resnet18.onnx"))}");
            sealed class Lines : ITrainingHook
            {
                public void EpochCompleted(ITrainingView run, EpochOutcome epoch) => Console.WriteLine($"epoch {epoch.Record.Epoch} done");
            }
            """);
        var output = Run("dotnet", consumer, "run", "-c", "Release", "--", Path.Combine(_root, "consumer-run"));
        Assert.Contains("trained 2 steps, weights", output, StringComparison.Ordinal);
        Assert.Contains("pretrained encoder beside the app: True", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every build packs the same version number, and NuGet's global packages folder answers a restore of a version it holds
    /// without asking the feed: a package restored by an earlier run of this test would stand in for this build's. Those
    /// entries (SegSharp's own packages only) are removed first.
    /// </summary>
    private static void ForgetCachedBuilds(string version)
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in new[] { "segsharp", "segsharp.tool", "segsharp.tool.linux-x64" })
        {
            string cached = Path.Combine(packages, id, version);
            if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
        }
    }

    /// <summary>The version both packages carry comes from Directory.Build.props alone.</summary>
    private static string Version() =>
        XDocument.Load(Path.Combine(TestPaths.RepositoryRoot, "Directory.Build.props")).Descendants("Version").Single().Value;

    private static void CheckLibraryPackage(string path, string version)
    {
        using var zip = ZipFile.OpenRead(path);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet();
        foreach (var expected in new[] { "lib/net10.0/SegSharp.dll", "buildTransitive/SegSharp.targets", "buildTransitive/LibTorchSharpPatch.targets",
            "buildTransitive/ElfVersionNeeds.cs", "contentFiles/any/any/pretrained/mlnet-resnet18.onnx", "README.md" })
            Assert.Contains(expected, names);
        using var nuspec = new StreamReader(zip.GetEntry("SegSharp.nuspec")!.Open());
        var xml = XDocument.Parse(nuspec.ReadToEnd());
        XNamespace ns = xml.Root!.Name.Namespace;
        Assert.Equal(version, xml.Descendants(ns + "version").Single().Value);
        Assert.Contains(xml.Descendants(ns + "dependency"), d => d.Attribute("id")!.Value == "TorchSharp-cpu" && d.Attribute("version")!.Value == "[0.107.0]");
    }

    private static string Run(string file, string directory, params string[] args) => ChildProcess.Run(file, directory, null, args);
}
