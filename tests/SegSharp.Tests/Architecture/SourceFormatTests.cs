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

    /// <summary>
    /// Every choice over an option enum is a switch expression, which the compiler checks for a missing member (CS8509 is
    /// an error here); a statement switch with <c>case Kind.Member:</c> labels is not checked and lets a new member fall
    /// through silently.
    /// </summary>
    [Fact]
    public void No_statement_switch_chooses_over_an_enum_in_the_library()
    {
        var offenders = new[] { "src" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(TestPaths.RepositoryRoot, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i + 1, line)))
            .Where(x => Regex.IsMatch(x.line, @"^\s*case\s+[A-Z]\w*\.[A-Z]\w*\s*:"))
            .Select(x => $"{Path.GetRelativePath(TestPaths.RepositoryRoot, x.f)}:{x.Item2}: {x.line.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, "Statement switches over an enum (use a switch expression):\n" + string.Join("\n", offenders));
    }

    /// <summary>
    /// A file of the library over 250 lines says why at its top (a first line <c>// Over 250 lines: ...</c>); otherwise it holds
    /// more than one thing and should be split.
    /// </summary>
    [Fact]
    public void No_library_file_is_over_250_lines_without_a_reason_at_its_top()
    {
        var offenders = new[] { "src" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(TestPaths.RepositoryRoot, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (f, Lines: File.ReadAllLines(f)))
            .Where(x => x.Lines.Length > 250 && !x.Lines[0].StartsWith("// Over 250 lines: ", StringComparison.Ordinal))
            .Select(x => $"{Path.GetRelativePath(TestPaths.RepositoryRoot, x.f)} has {x.Lines.Length} lines")
            .ToList();
        Assert.True(offenders.Count == 0, "Files over 250 lines without a reason at the top:\n" + string.Join("\n", offenders));
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
