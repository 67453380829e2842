using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using SegSharp.Tests.Training;

namespace SegSharp.Tests.Cli;

/// <summary>
/// The hostile-input audit's cases through the real command line: decompression bombs, escape sequences in file names,
/// an interrupted predict resumed, outputs guarded. Each ends in one line and the documented exit code.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public sealed class HostileInputTests
{
    private static readonly Lazy<string> Model = new(() =>
    {
        string run = TestPaths.TempFolder("hostile-input");
        TinyRun.Train(run);
        return Path.Combine(run, "checkpoints", "last.ckpt");
    });

    /// <summary>A real PNG of <paramref name="side"/>² gray pixels, all zero: a few hundred KB that decode to side² bytes.</summary>
    private static void WriteBomb(string path, int side)
    {
        using var file = File.Create(path);
        file.Write(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, side);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), side);
        header[8] = 8;                                          // 8-bit gray, no interlace
        Chunk(file, "IHDR", header);
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[side + 1];                       // filter byte 0, then the row
            for (int y = 0; y < side; y++) zlib.Write(row);
        }
        Chunk(file, "IDAT", compressed.ToArray());
        Chunk(file, "IEND", Array.Empty<byte>());
    }

    private static void Chunk(Stream stream, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, System.IO.Hashing.Crc32.HashToUInt32(typed));
        stream.Write(crc);
    }

    [Fact]
    public void A_decompression_bomb_is_refused_from_its_header_and_the_rest_of_the_folder_is_predicted()
    {
        string input = TestPaths.TempFolder("bomb");
        WriteBomb(Path.Combine(input, "bomb.png"), 20000);
        Assert.True(new FileInfo(Path.Combine(input, "bomb.png")).Length < 2 << 20);
        File.Copy(Path.Combine(TestPaths.Isbi, "image", "1.png"), Path.Combine(input, "real.png"));
        string output = TestPaths.TempFolder("bomb-out");
        var (code, stdout, error) = CliProcess.Run(new[] { "predict", "--checkpoint", Model.Value, "--input", input, "--output", output });
        Assert.True(code == 1, $"exit {code}\n{stdout}\n{error}");
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("bomb.png' declares 20000x20000 pixels (400 MP), over the 150 MP limit", line, StringComparison.Ordinal);
        Assert.Contains("predict: 1 written, 1 skipped", stdout, StringComparison.Ordinal);

        // data check finds it too, as an error of the dataset, without decoding it.
        string dataset = TestPaths.TempFolder("bomb-dataset");
        Directory.CreateDirectory(Path.Combine(dataset, "images"));
        Directory.CreateDirectory(Path.Combine(dataset, "masks"));
        File.Copy(Path.Combine(input, "bomb.png"), Path.Combine(dataset, "images", "a.png"));
        File.Copy(Path.Combine(input, "bomb.png"), Path.Combine(dataset, "masks", "a.png"));
        File.WriteAllText(Path.Combine(dataset, "data.yaml"), "classes: [background, object]\n");
        var check = CliProcess.Run(new[] { "data", "check", Path.Combine(dataset, "data.yaml") });
        Assert.True(check.Code == 1, $"exit {check.Code}\n{check.Out}\n{check.Error}");
        Assert.Contains("declares 20000x20000 pixels", check.Error, StringComparison.Ordinal);
        // The dataset description's max_image_pixels sets the limit for training and data check: lowered below a real
        // 512x512 ISBI pair it refuses that pair, naming the key.
        string small = TestPaths.TempFolder("limit-dataset");
        Directory.CreateDirectory(Path.Combine(small, "images"));
        Directory.CreateDirectory(Path.Combine(small, "masks"));
        File.Copy(Path.Combine(TestPaths.Isbi, "image", "1.png"), Path.Combine(small, "images", "a.png"));
        File.Copy(Path.Combine(TestPaths.Isbi, "label", "1.png"), Path.Combine(small, "masks", "a.png"));
        const string classes = "mask_encoding: values\nclasses: [{ name: membrane, value: 0 }, { name: cell, value: 255 }]\n";
        File.WriteAllText(Path.Combine(small, "data.yaml"), classes);
        var fits = CliProcess.Run(new[] { "data", "check", Path.Combine(small, "data.yaml") });
        Assert.True(fits.Code == 0, $"exit {fits.Code}\n{fits.Out}\n{fits.Error}");
        File.WriteAllText(Path.Combine(small, "data.yaml"), classes + "max_image_pixels: 200000\n");
        var lowered = CliProcess.Run(new[] { "data", "check", Path.Combine(small, "data.yaml") });
        Assert.True(lowered.Code == 1, $"exit {lowered.Code}\n{lowered.Out}\n{lowered.Error}");
        Assert.Contains("declares 512x512 pixels (0.3 MP), over the 0.2 MP limit", lowered.Error, StringComparison.Ordinal);
        Assert.Contains("max_image_pixels in the dataset description", lowered.Error, StringComparison.Ordinal);

        var raised = CliProcess.Run(new[] { "predict", "--checkpoint", Model.Value, "--input", input, "--output", output, "--max-pixels", "0" });
        Assert.Equal(2, raised.Code);
        Assert.Contains("--max-pixels 0 is not valid", raised.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Terminal_escape_sequences_in_file_names_are_printed_escaped()
    {
        string input = TestPaths.TempFolder("escape");
        string name = "a\u001b]0;pwned\u0007\u001b[2Jb.png";
        File.WriteAllText(Path.Combine(input, name), "not a png");
        var (code, stdout, error) = CliProcess.Run(new[] { "predict", "--checkpoint", Model.Value, "--input", input, "--output", TestPaths.TempFolder("o") });
        Assert.Equal(1, code);
        Assert.DoesNotContain('\u001b', error + stdout);
        Assert.DoesNotContain('\u0007', error + stdout);
        Assert.Contains("a\\x1b]0;pwned\\x07\\x1b[2Jb.png", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_C_stops_predict_after_an_image_and_resume_finishes_the_folder_with_the_same_masks()
    {
        string input = Path.Combine(TestPaths.Isbi, "image");
        string output = TestPaths.TempFolder("interrupted"), reference = TestPaths.TempFolder("uninterrupted");
        Assert.Equal(0, CliProcess.Run(new[] { "predict", "--checkpoint", Model.Value, "--input", input, "--output", reference }).Code);

        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "SegSharp.Cli.dll"), "predict", "--checkpoint", Model.Value, "--input", input,
                     "--output", output })
            info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        using (var child = Process.Start(info)!)
        {
            var stdout = child.StandardOutput.ReadToEndAsync();
            var stderr = child.StandardError.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            string masks = Path.Combine(output, "masks");
            while ((!Directory.Exists(masks) || Directory.GetFiles(masks).Length < 3) && clock.Elapsed < TimeSpan.FromSeconds(120)) Thread.Sleep(10);
            using (var kill = Process.Start("kill", new[] { "-INT", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) })!)
                kill.WaitForExit();
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(60)));
            string printed = await stdout, errors = await stderr;
            Assert.True(child.ExitCode == 130, $"exit {child.ExitCode}\n{printed}\n{errors}");
            Assert.Contains("run the same command with --resume", printed, StringComparison.Ordinal);
        }
        int finished = Directory.GetFiles(Path.Combine(output, "overlays")).Length;
        Assert.InRange(finished, 3, 29);
        Assert.Empty(Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories));

        // The same command is refused (outputs exist) and names --resume; with it, the rest is predicted.
        var again = CliProcess.Run(new[] { "predict", "--checkpoint", Model.Value, "--input", input, "--output", output });
        Assert.Equal(2, again.Code);
        Assert.Contains("pass --resume", again.Error, StringComparison.Ordinal);
        var resumed = CliProcess.Run(new[] { "predict", "--checkpoint", Model.Value, "--input", input, "--output", output, "--resume" });
        Assert.True(resumed.Code == 0, resumed.Out + resumed.Error);
        Assert.Contains($"{30 - finished} written, 0 skipped, {finished} done before", resumed.Out, StringComparison.Ordinal);
        foreach (var mask in Directory.GetFiles(Path.Combine(reference, "masks")))
            Assert.Equal(File.ReadAllBytes(mask), File.ReadAllBytes(Path.Combine(output, "masks", Path.GetFileName(mask))));
    }

    [Fact]
    public void Export_never_overwrites_its_own_checkpoint_and_asks_before_replacing_a_file()
    {
        string folder = TestPaths.TempFolder("export-guard");
        string checkpoint = Path.Combine(folder, "model.ckpt");
        File.Copy(Model.Value, checkpoint);
        byte[] before = File.ReadAllBytes(checkpoint);
        foreach (var self in new[] { checkpoint, Path.Combine(folder, ".", "model.ckpt") })
        {
            var (code, _, error) = CliProcess.Run(new[] { "export", "--checkpoint", checkpoint, "--format", "safetensors", "--output", self, "--overwrite" });
            Assert.Equal(2, code);
            Assert.Contains("is the checkpoint being exported", Assert.Single(error.Trim().Split('\n')), StringComparison.Ordinal);
        }
        File.CreateSymbolicLink(Path.Combine(folder, "link.ckpt"), checkpoint);
        Assert.Equal(2, CliProcess.Run(new[] { "export", "--checkpoint", checkpoint, "--format", "onnx", "-o", Path.Combine(folder, "link.ckpt"),
            "--overwrite" }).Code);
        Assert.Equal(before, File.ReadAllBytes(checkpoint));

        string other = Path.Combine(folder, "notes.onnx");
        File.WriteAllText(other, "keep me");
        var refused = CliProcess.Run(new[] { "export", "--checkpoint", checkpoint, "--format", "onnx", "-o", other });
        Assert.Equal(2, refused.Code);
        Assert.Contains("pass --overwrite", refused.Error, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(other));
        Assert.Equal(0, CliProcess.Run(new[] { "export", "--checkpoint", checkpoint, "--format", "onnx", "-o", other, "--overwrite" }).Code);
        Assert.NotEqual("keep me", File.ReadAllText(other));
    }

    [Fact]
    public void Evaluate_does_not_write_into_a_folder_that_holds_files_unless_told()
    {
        string output = TestPaths.TempFolder("eval-guard");
        File.WriteAllText(Path.Combine(output, "thesis.tex"), "mine");
        var refused = CliProcess.Run(new[] { "evaluate", "--checkpoint", Model.Value, "--output", output });
        Assert.Equal(2, refused.Code);
        Assert.Contains("holds files; pass --overwrite", Assert.Single(refused.Error.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.Single(Directory.EnumerateFileSystemEntries(output));
        // The checkpoint's own run report is what evaluating a run updates.
        var own = CliProcess.Run(new[] { "evaluate", "--checkpoint", Model.Value });
        Assert.True(own.Code == 0, own.Out + own.Error);
    }

    [Fact]
    public void A_command_line_that_does_not_parse_is_bad_input_exit_2()
    {
        var (code, _, error) = CliProcess.Run(new[] { "predict", "--tile", "many", "--bogus" });
        Assert.Equal(2, code);
        Assert.All(error.Trim().Split('\n'), l => Assert.True(l.StartsWith("error: ", StringComparison.Ordinal) || l.Contains("--help"), l));
        Assert.Contains("--bogus", error, StringComparison.Ordinal);
        Assert.Equal(2, CliProcess.Run(new[] { "frobnicate" }).Code);
        Assert.Equal(0, CliProcess.Run(new[] { "--help" }).Code);
    }

    [Fact]
    public void Data_check_of_a_dataset_with_no_pairs_fails_as_training_would_and_an_empty_config_is_refused()
    {
        string dataset = TestPaths.TempFolder("no-pairs");
        Directory.CreateDirectory(Path.Combine(dataset, "images"));
        Directory.CreateDirectory(Path.Combine(dataset, "masks"));
        File.WriteAllText(Path.Combine(dataset, "data.yaml"), "classes: [background, object]\n");
        var check = CliProcess.Run(new[] { "data", "check", Path.Combine(dataset, "data.yaml") });
        Assert.Equal(1, check.Code);
        Assert.Contains("no image/mask pairs found", check.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("ok:", check.Out, StringComparison.Ordinal);

        string config = Path.Combine(dataset, "empty.yaml");
        File.WriteAllText(config, "# TODO: fill in\n\n");
        var train = CliProcess.Run(new[] { "train", "--config", config });
        Assert.Equal(2, train.Code);
        Assert.Contains("holds no settings", Assert.Single(train.Error.Trim().Split('\n')), StringComparison.Ordinal);
    }
}
