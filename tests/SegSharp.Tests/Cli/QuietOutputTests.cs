namespace SegSharp.Tests.Cli;

/// <summary>Normal use prints nothing a user did not ask for on stderr: no libtorch log lines (NNPACK, oneDNN, c10).</summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class QuietOutputTests
{
    [Fact]
    public void Info_and_a_one_epoch_train_write_nothing_to_stderr()
    {
        var (infoCode, _, infoError) = CliProcess.Run(new[] { "info" });
        Assert.Equal(0, infoCode);
        Assert.Equal("", infoError.Trim());
        var (code, output, error) = CliProcess.Run(CliProcess.TinyTrain(TestPaths.TempFolder("quiet"), "train.epochs=1"));
        Assert.True(code == 0, output + error);
        Assert.Equal("", error.Trim());
        Assert.Contains("weights sha256: ", output);
    }
}
