using System.Text.RegularExpressions;

namespace SegSharp.Tests.Architecture;

/// <summary>What the analyzers cannot check of .editorconfig: the house line length.</summary>
public class SourceFormatTests
{
    [Fact]
    public void No_source_line_is_longer_than_the_editorconfig_limit()
    {
        int limit = MaxLineLength();
        Assert.InRange(limit, 100, 200);
        var offenders = SourceFiles()
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i + 1, line.Length)))
            .Where(x => x.Length > limit)
            .Select(x => $"{Path.GetRelativePath(TestPaths.RepositoryRoot, x.f)}:{x.Item2} has {x.Length} characters")
            .ToList();
        Assert.True(offenders.Count == 0, $"Lines over {limit} characters:\n" + string.Join("\n", offenders));
    }

    /// <summary>max_line_length of the [*.cs] section.</summary>
    private static int MaxLineLength()
    {
        string? section = null;
        foreach (var line in File.ReadLines(Path.Combine(TestPaths.RepositoryRoot, ".editorconfig")))
        {
            var header = Regex.Match(line, @"^\[(.+)\]\s*$");
            if (header.Success) section = header.Groups[1].Value;
            var value = Regex.Match(line, @"^max_line_length\s*=\s*(\d+)");
            if (section == "*.cs" && value.Success) return int.Parse(value.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException(".editorconfig has no max_line_length in its [*.cs] section.");
    }

    private static IEnumerable<string> SourceFiles() =>
        new[] { "src", "tests", "benchmarks", "build" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(TestPaths.RepositoryRoot, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
}
