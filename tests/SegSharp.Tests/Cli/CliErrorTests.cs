using SegSharp.Cli;
using SegSharp.Tests.Data;

namespace SegSharp.Tests.Cli;

[Collection("console")]
public class CliErrorTests
{
    private static (int Code, string Out, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            int code = CommandLine.Build().Parse(args).Invoke();
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }

    [Fact]
    public void Bad_config_value_is_one_line_on_stderr_and_exit_code_2()
    {
        var (code, _, error) = Run("config", "show", "--set", "train.batch_size=0");
        Assert.Equal(2, code);
        Assert.Equal("error: embedded:default: train.batch_size = '0' is not valid; expected a whole number from 1 to 4096.", error.Trim());
    }

    [Fact]
    public void Config_show_prints_the_effective_config_with_overrides()
    {
        var (code, output, _) = Run("config", "show", "--set", "train.epochs=3");
        Assert.Equal(0, code);
        Assert.Contains("  epochs: 3\n", output);
        Assert.Contains("  dataset: builtin:shapes\n", output);
    }

    [Fact]
    public void Data_check_on_the_isbi_set_reports_pairs_size_and_shares()
    {
        var (code, output, _) = Run("data", "check", TestPaths.IsbiDescription);
        Assert.Equal(0, code);
        Assert.Contains("pairs: 30", output);
        Assert.Contains("sizes: 512x512 x30", output);
        Assert.Matches(@"class membrane: \d+ px \(2\d\.\d\d ?%\)", output);
        Assert.Matches(@"class cell: \d+ px \(7\d\.\d\d ?%\)", output);
    }

    [Fact]
    public void Data_check_with_problems_exits_1_with_one_line_per_problem()
    {
        string yaml = DatasetFixture.Create(TestPaths.TempFolder("cli-check"),
            "mask_encoding: values\nclasses:\n  - { name: a, value: 0 }\n  - { name: b, value: 255 }\n", 3,
            (path, i) => DatasetFixture.WriteGray8(path, Enumerable.Repeat(i == 1 ? 7 : 255, 8 * 12).ToArray(), 8, 12));
        File.Delete(Path.Combine(Path.GetDirectoryName(yaml)!, "masks", "2.png"));
        var (code, output, error) = Run("data", "check", yaml);
        Assert.Equal(1, code);
        var lines = error.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.StartsWith("error: ", l));
        Assert.Contains(lines, l => l.Contains("holds value 7"));
        Assert.Contains("2 problem(s) found", output);
    }

    [Fact]
    public void Missing_checkpoint_is_a_clear_error()
    {
        var (code, _, error) = Run("evaluate", "--checkpoint", "/nonexistent/best.ckpt");
        Assert.Equal(2, code);
        Assert.StartsWith("error: Checkpoint '/nonexistent/best.ckpt' does not exist.", error);
    }

    [Theory]
    [InlineData("config")]
    [InlineData("set")]
    [InlineData("dataset")]
    public void Broken_yaml_anywhere_is_exit_code_2_and_one_line_with_its_position(string where)
    {
        string folder = TestPaths.TempFolder("cli-yaml");
        string broken = Path.Combine(folder, "broken.yaml");
        File.WriteAllText(broken, "train:\n  epochs: [3\n  batch_size: 2\n");
        var (code, _, error) = where switch
        {
            "config" => Run("config", "show", "--config", broken),
            "set" => Run("config", "show", "--set", "train.epochs={3"),
            _ => Run("data", "check", broken),
        };
        Assert.Equal(2, code);
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.Matches(@"^error: .*not valid YAML at line \d+, column \d+: ", line);
    }

    [Fact]
    public void Resume_with_another_config_is_refused()
    {
        var (code, _, error) = Run("train", "--resume", TestPaths.TempFolder("cli-resume"), "--config", "configs/default.yaml");
        Assert.Equal(2, code);
        Assert.Contains("continues with the config saved there; drop --config", error);
    }
}
