using System.Text.Json;
using SegSharp.Foundation;
using SegSharp.Training;

namespace SegSharp.Tracking;

/// <summary>
/// What is to be told to MLflow and what MLflow already knows, both on disk in the run folder: the operations not yet
/// acknowledged (<c>mlflow-outbox.jsonl</c>, oldest first) and the run's tracking state (<c>mlflow.json</c>: its id, the last
/// step logged). Thread-safe: the training thread adds, the sender takes; both publish every change, and
/// <see cref="WaitUntil"/> sleeps until one happens.
/// </summary>
internal sealed class MlflowOutbox
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
    };

    private readonly object _gate = new();
    private readonly List<MlflowOperation> _queue = new();
    private readonly string _statePath;
    private MlflowRunState _state;

    /// <summary>Reads what an earlier process left; <paramref name="report"/> hears of outbox lines that are no operation (dropped).</summary>
    public MlflowOutbox(string runDirectory, Action<string> report)
    {
        Directory.CreateDirectory(runDirectory);
        _statePath = Path.Combine(runDirectory, RunDirectory.MlflowStateFile);
        OutboxPath = Path.Combine(runDirectory, RunDirectory.MlflowOutboxFile);
        _state = File.Exists(_statePath) ? JsonSerializer.Deserialize<MlflowRunState>(File.ReadAllText(_statePath), Json)! : new MlflowRunState();
        if (File.Exists(OutboxPath)) _queue.AddRange(Read(report));
    }

    public string OutboxPath { get; }

    public MlflowRunState State
    {
        get
        {
            lock (_gate) return _state;
        }
    }

    public int Count
    {
        get
        {
            lock (_gate) return _queue.Count;
        }
    }

    public MlflowOperation? Oldest
    {
        get
        {
            lock (_gate) return _queue.FirstOrDefault();
        }
    }

    /// <summary>Appends to the file first, then to the queue: an operation the sender can see is on disk.</summary>
    public void Add(MlflowOperation operation)
    {
        lock (_gate)
        {
            File.AppendAllText(OutboxPath, JsonSerializer.Serialize(operation, Json) + "\n");
            _queue.Add(operation);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The oldest operation is done (sent, or refused for good): the file is rewritten without it.</summary>
    public void RemoveOldest()
    {
        lock (_gate)
        {
            _queue.RemoveAt(0);
            AtomicFile.WriteAllText(OutboxPath, string.Concat(_queue.Select(o => JsonSerializer.Serialize(o, Json) + "\n")));
            Monitor.PulseAll(_gate);
        }
    }

    public void Update(Func<MlflowRunState, MlflowRunState> change)
    {
        lock (_gate)
        {
            _state = change(_state);
            AtomicFile.WriteAllText(_statePath, JsonSerializer.Serialize(_state, Json));
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Runs <paramref name="action"/> under the lock and wakes every waiter (for state kept outside, such as the sender's health).</summary>
    public void Publish(Action action)
    {
        lock (_gate)
        {
            action();
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Blocks until <paramref name="done"/> (read under the lock) holds or <paramref name="wait"/> has passed. Every change is
    /// published, so this sleeps until something happened, never polls.
    /// </summary>
    /// <param name="wait">At most this long; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    public void WaitUntil(Func<bool> done, TimeSpan wait)
    {
        var deadline = wait == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + wait;
        lock (_gate)
        {
            while (!done())
            {
                if (deadline == DateTime.MaxValue)
                {
                    Monitor.Wait(_gate);
                    continue;
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(_gate, left)) return;
            }
        }
    }

    /// <summary>The operations an earlier process left; a line that is not one (a hand edit, a newer SegSharp) is dropped with a warning.</summary>
    private List<MlflowOperation> Read(Action<string> report)
    {
        var operations = new List<MlflowOperation>();
        int dropped = 0;
        foreach (var line in File.ReadAllLines(OutboxPath).Where(l => l.Length > 0))
        {
            try
            {
                operations.Add(JsonSerializer.Deserialize<MlflowOperation>(line, Json) ?? throw new JsonException("null"));
            }
            catch (JsonException)
            {
                dropped++;
            }
        }
        if (dropped > 0) report($"warning: {dropped} line(s) of {OutboxPath} are not MLflow operations SegSharp knows; they are dropped.");
        return operations;
    }
}

/// <summary>RUN/mlflow.json: what the store already has of this run.</summary>
internal sealed record MlflowRunState
{
    public string? Uri { get; init; }

    public string? RunId { get; init; }

    public string? ArtifactUri { get; init; }

    public long LoggedThroughStep { get; init; } = -1;

    public bool ParamsLogged { get; init; }

    /// <summary>The final artifacts and FINISHED status are in the outbox (or sent): starting the finished run again adds nothing.</summary>
    public bool EndQueued { get; init; }
}
