using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SegSharp.Configuration;
using SegSharp.Foundation;
using SegSharp.Inference;
using SegSharp.Models;
using SegSharp.Training;
using SegSharp.Workflows;

namespace SegSharp.Tests.Training;

/// <summary>
/// Before U-Nets could have an encoder, every stored U-Net config said <c>model.encoder: resnet34</c> (DeepLabV3+'s key,
/// unused). Run folders and model files from then still mean the classic U-Net: they load, predict and resume as it.
/// </summary>
[Collection("training")]
[Trait("Tier", "EndToEnd")]
public class StoredFormatTests
{
    [Fact]
    public void A_run_folder_and_checkpoint_from_before_unet_encoders_load_and_resume_as_the_classic_unet()
    {
        string folder = TestPaths.TempFolder("format1");
        using (var cancel = new CancellationTokenSource())
            TinyRun.Train(folder, new RecordingHook(cancel, cancelAtStep: 5), cancel.Token);
        var run = new RunDirectory(folder, create: false);
        MakeFormat1(run);
        Assert.Contains("encoder: resnet34", File.ReadAllText(run.ConfigPath), StringComparison.Ordinal);

        // The model file alone: the classic U-Net, its weights as trained.
        using (var trained = TrainedModel.Load(run.Checkpoints.LastPath))
        {
            Assert.IsType<UNet>(trained.Model);
            Assert.Equal(EncoderKind.None, trained.Card.Model.Encoder);
            Assert.Equal(EncoderKind.None, trained.Config.Model.Encoder);
        }

        // The run folder: resumes (the same training as the uninterrupted run) instead of building a ResNet U-Net.
        var config = TrainingWorkflow.ResumeConfig(folder);
        Assert.Equal(EncoderKind.None, config.Model.Encoder);
        var resumed = TinyRun.Trainer(config, new[] { new RecordingHook() }).Run();
        Assert.False(resumed.Interrupted);
        Assert.Equal(TinyRun.Train(TestPaths.TempFolder("format1-reference")).WeightsHash, resumed.WeightsHash);
        // What it wrote since is format 2 throughout, so the next load or resume needs no upgrade.
        var written = Checkpoint.Parse(File.ReadAllBytes(run.Checkpoints.LastPath));
        Assert.Equal(ModelCard.CurrentFormat, written.Card!.Format);
        Assert.Contains("encoder: none", written.State.ConfigYaml, StringComparison.Ordinal);
    }

    /// <summary>Rewrites a run as the earlier SegSharp wrote it: config.yaml's old header and key, format-1 cards, old stored configs.</summary>
    private static void MakeFormat1(RunDirectory run)
    {
        string text = File.ReadAllText(run.ConfigPath);
        var lines = text.Split('\n').ToList();
        lines[0] = "# SegSharp effective config (source: embedded:default)";
        File.WriteAllText(run.ConfigPath, string.Join('\n', lines).Replace("encoder: none", "encoder: resnet34", StringComparison.Ordinal));
        foreach (var path in new[] { run.Checkpoints.LastPath, run.Checkpoints.PreviousPath }.Where(File.Exists))
        {
            var bytes = File.ReadAllBytes(path);
            int position = 16; // "SEGSHARP-CKPT-2\n"
            var sections = new List<byte[]>();
            for (int i = 0; i < 4; i++)
            {
                long length = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(position, 8));
                sections.Add(bytes.AsSpan(position + 8, (int)length).ToArray());
                position += 8 + (int)length;
            }
            var card = JsonSerializer.Deserialize<ModelCard>(sections[0], JsonFormats.Compact)!;
            card = card with { Format = 1, Model = card.Model with { Encoder = EncoderKind.ResNet34 } };
            var state = JsonSerializer.Deserialize<TrainingState>(sections[1], JsonFormats.Compact)!;
            state = state with { ConfigYaml = state.ConfigYaml.Replace("encoder: none", "encoder: resnet34", StringComparison.Ordinal) };
            sections[0] = JsonSerializer.SerializeToUtf8Bytes(card, JsonFormats.Compact);
            sections[1] = JsonSerializer.SerializeToUtf8Bytes(state, JsonFormats.Compact);
            using var body = new MemoryStream();
            body.Write(Encoding.ASCII.GetBytes("SEGSHARP-CKPT-2\n"));
            var prefix = new byte[8];
            foreach (var section in sections)
            {
                BinaryPrimitives.WriteInt64LittleEndian(prefix, section.Length);
                body.Write(prefix);
                body.Write(section);
            }
            body.Write(SHA256.HashData(body.ToArray()));
            File.WriteAllBytes(path, body.ToArray());
            Assert.Equal(1, Checkpoint.Parse(File.ReadAllBytes(path)).Card!.Format);
        }
    }
}
