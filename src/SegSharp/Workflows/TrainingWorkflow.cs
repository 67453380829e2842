using SegSharp.Configuration;
using SegSharp.Training;
using SegSharp.Tracking;

namespace SegSharp.Workflows;

/// <summary>
/// "Train, then evaluate": trains a config into its run directory (resuming from its checkpoints when they are
/// of the same config) and, unless interrupted or told not to, evaluates best.ckpt on the validation split into
/// the run's report/ folder. <see cref="ResumeConfig"/> is what continuing a run folder starts from.
/// </summary>
public static class TrainingWorkflow
{
    /// <summary>The config saved in <paramref name="runDirectory"/>, pointed back at that folder.</summary>
    public static SegSharpConfig ResumeConfig(string runDirectory, IReadOnlyList<string>? overrides = null)
    {
        string configPath = Path.Combine(runDirectory, RunDirectory.ConfigFile);
        if (!File.Exists(configPath))
            throw new SegSharpException($"--resume '{runDirectory}' has no config.yaml; it is not a SegSharp run directory.");
        var all = (overrides ?? Array.Empty<string>()).Append($"output.dir={Path.GetFullPath(runDirectory)}").ToList();
        var config = SegSharpConfig.Load(configPath, all);
        // A run written before stored configs named their format: its U-Net has no encoder, whatever model.encoder says.
        return SegSharpConfig.IsStoredFormat1(File.ReadAllText(configPath)) && config.Model is { Kind: ModelKind.UNet, HasEncoder: true }
            ? SegSharpConfig.Load(configPath, all.Prepend("model.encoder=none").ToList())
            : config;
    }

    /// <summary>
    /// Applies the process policy (threads, deterministic algorithms), trains, and evaluates best.ckpt into the run's
    /// report/ folder. With <c>tracking.mlflow.uri</c> set, MLflow tracking observes the run and, after the report exists,
    /// ends the MLflow run with the report as artifacts; environment variables are the caller's to resolve
    /// (<see cref="TrackingConfig.WithEnvironment"/>).
    /// </summary>
    /// <param name="hooks">Training hooks (a console's progress, ...); they also receive the run's messages.</param>
    /// <param name="evaluate">Write the evaluation report of best.ckpt after training.</param>
    /// <param name="allowDataChange">Resume even when the dataset changed since the run started.</param>
    /// <param name="collective">The processes training together (mpirun); only rank 0 tracks and evaluates.</param>
    /// <param name="stop">Cancel to finish the current step, checkpoint and return (resumable).</param>
    public static TrainAndEvaluateResult Run(SegSharpConfig config, IEnumerable<ITrainingHook>? hooks = null, bool evaluate = true,
        bool allowDataChange = false, Runtime.ICollective? collective = null, CancellationToken stop = default)
    {
        Runtime.ProcessPolicy.Apply(config.Train.Threads, collective);
        var callerHooks = hooks?.ToList() ?? new List<ITrainingHook>();
        void Report(string text)
        {
            foreach (var hook in callerHooks) hook.Message(text);
        }
        // Experiment tracking is rank 0's, like every other file a run writes.
        using var tracker = collective is { IsRoot: false } ? null : MlflowTracker.Open(config, Report);
        var allHooks = tracker is null ? callerHooks : callerHooks.Append(tracker.Hook).ToList();
        // What the tracker keeps as the run's artifacts, listed once the run has written them.
        IEnumerable<string> Record() => new RunDirectory(config.OutputDirectory, create: false).RecordFiles();
        try
        {
            var result = new Trainer(config, allHooks, allowDataChange: allowDataChange, collective: collective).Run(stop);
            if (result.Interrupted || !evaluate || collective is { IsRoot: false })
            {
                tracker?.Finish(result.Interrupted ? "KILLED" : "FINISHED", config.OutputDirectory, Record());
                return new TrainAndEvaluateResult(result, null);
            }
            var checkpoints = result.Run.Checkpoints;
            // best.ckpt exists once a validation improved; without a validation split the last weights are the result,
            // measured on everything there is.
            bool validated = File.Exists(checkpoints.BestPath);
            var outcome = new TrainAndEvaluateResult(result, EvaluationWorkflow.Run(validated ? checkpoints.BestPath : checkpoints.LastPath,
                split: validated ? EvaluationSplit.Validation : EvaluationSplit.All, output: result.Run.ReportDirectory));
            tracker?.Finish("FINISHED", config.OutputDirectory, Record());
            return outcome;
        }
        catch (Exception) when (tracker is not null)
        {
            tracker.Finish("FAILED", config.OutputDirectory, Record());
            throw;
        }
    }
}
