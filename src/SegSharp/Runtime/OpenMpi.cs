using System.Runtime.InteropServices;
using System.Text;
using static TorchSharp.torch;

namespace SegSharp.Runtime;

/// <summary>
/// <see cref="ICollective"/> on Open MPI (libmpi.so.40, Debian's openmpi-bin 4.1) through a thin P/Invoke binding. Open MPI's
/// predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of exported globals, looked up once.
/// The library is opened RTLD_GLOBAL first, because its plug-ins (the shared-memory and TCP transports) resolve
/// libmpi's symbols through the global namespace. Errors in a collective are fatal for the whole job (MPI's default),
/// and a rank that dies makes mpirun end the others, so no rank waits forever.
/// </summary>
public sealed class OpenMpi : ICollective
{
    private const string Library = "libmpi.so.40";
    private const int ThreadSerialized = 2;
    private static readonly IntPtr InPlace = 1;
    private static OpenMpi? Instance;

    private readonly IntPtr _world, _float, _double, _int64, _byte, _sum;
    private bool _finalized;

    private OpenMpi()
    {
        var library = NativeLibrary.Load(Library);
        IntPtr Handle(string name) => NativeLibrary.GetExport(library, name);
        _world = Handle("ompi_mpi_comm_world");
        _float = Handle("ompi_mpi_float");
        _double = Handle("ompi_mpi_double");
        _int64 = Handle("ompi_mpi_int64_t");
        _byte = Handle("ompi_mpi_byte");
        _sum = Handle("ompi_mpi_op_sum");
        Check(MPI_Init_thread(IntPtr.Zero, IntPtr.Zero, ThreadSerialized, out _), "MPI_Init_thread");
        Check(MPI_Comm_rank(_world, out int rank), "MPI_Comm_rank");
        Check(MPI_Comm_size(_world, out int size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
        var version = new byte[512];
        Check(MPI_Get_library_version(version, out int length), "MPI_Get_library_version");
        Implementation = Encoding.ASCII.GetString(version, 0, Math.Clamp(length, 0, version.Length)).Split(',')[0].Trim();
    }

    public int Rank { get; }

    public int Size { get; }

    public string Implementation { get; }

    /// <summary>True when this process was started by Open MPI's mpirun (or another launcher that sets its variables).</summary>
    public static bool Launched => LaunchedAs is not null;

    /// <summary>This process's rank and the job's size as mpirun set them (before MPI is initialised); null without mpirun.</summary>
    public static (string Rank, string Size)? LaunchedAs =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK") is { } rank && Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { } size
            ? (rank, size)
            : null;

    /// <summary>Ranks of this job on this machine (mpirun's OMPI_COMM_WORLD_LOCAL_SIZE), 1 without mpirun.</summary>
    public static int LocalSize =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), out int n) && n > 0 ? n : 1;

    /// <summary>
    /// Initialises MPI once per process. Unless the user chose otherwise, all-reduce uses Open MPI's basic linear
    /// algorithm, whose summation order is fixed, so a rerun of the same job gives bit-identical weights.
    /// </summary>
    public static OpenMpi Initialize()
    {
        if (Instance is not null) return Instance;
        if (Missing(Library) is { } missing) throw missing;
        SetDefault("OMPI_MCA_coll_tuned_use_dynamic_rules", "1");
        SetDefault("OMPI_MCA_coll_tuned_allreduce_algorithm", "1");
        return Instance = new OpenMpi();
    }

    /// <summary>The error to show when <paramref name="library"/> cannot be opened (Open MPI not installed); null when it can.</summary>
    internal static SegSharpException? Missing(string library) =>
        NativeLibrary.TryLoad(library, out _) && dlopen(Utf8(library), RtldNow | RtldGlobal) != IntPtr.Zero
            ? null
            : new SegSharpException($"mpirun started this process for distributed training, but Open MPI's library {library} was not found. " +
                "Install it with 'apt-get install openmpi-bin' (Debian/Ubuntu), or run segsharp without mpirun to train in one process.");

    public void AllReduceSum(Tensor tensor)
    {
        Require(tensor, ScalarType.Float32);
        var bytes = tensor.bytes;
        unsafe
        {
            fixed (byte* data = bytes) ReduceInPlace((IntPtr)data, tensor.numel(), sizeof(float), _float);
        }
    }

    public unsafe void AllReduceSum(Span<long> values)
    {
        fixed (long* data = values) ReduceInPlace((IntPtr)data, values.Length, sizeof(long), _int64);
    }

    public unsafe void AllReduceSum(Span<double> values)
    {
        fixed (double* data = values) ReduceInPlace((IntPtr)data, values.Length, sizeof(double), _double);
    }

    public void Broadcast(Tensor tensor)
    {
        if (tensor.device_type != TorchSharp.DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("Open MPI broadcasts contiguous CPU tensors only.", nameof(tensor));
        var bytes = tensor.bytes;
        unsafe
        {
            fixed (byte* data = bytes) BroadcastBytes((IntPtr)data, bytes.Length);
        }
    }

    public unsafe byte[] Broadcast(byte[]? rootBytes)
    {
        Span<long> length = stackalloc long[1];
        length[0] = IsRoot ? rootBytes!.Length : 0;
        fixed (long* data = length) Check(MPI_Bcast((IntPtr)data, 1, _int64, 0, _world), "MPI_Bcast");
        var bytes = IsRoot ? rootBytes! : new byte[length[0]];
        fixed (byte* data = bytes) BroadcastBytes((IntPtr)data, bytes.Length);
        return bytes;
    }

    public void Barrier() => Check(MPI_Barrier(_world), "MPI_Barrier");

    public void Abort(int exitCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        _ = MPI_Abort(_world, exitCode);
        Environment.Exit(exitCode);
    }

    public void Dispose()
    {
        if (_finalized) return;
        _finalized = true;
        _ = MPI_Finalize();
    }

    private bool IsRoot => Rank == 0;

    /// <summary>MPI counts are int: long buffers go in chunks of at most 2^30 elements.</summary>
    private void ReduceInPlace(IntPtr data, long count, int elementSize, IntPtr type)
    {
        for (long done = 0; done < count;)
        {
            int chunk = (int)Math.Min(count - done, 1 << 30);
            Check(MPI_Allreduce(InPlace, data + (nint)(done * elementSize), chunk, type, _sum, _world), "MPI_Allreduce");
            done += chunk;
        }
    }

    private void BroadcastBytes(IntPtr data, long count)
    {
        for (long done = 0; done < count;)
        {
            int chunk = (int)Math.Min(count - done, 1 << 30);
            Check(MPI_Bcast(data + (nint)done, chunk, _byte, 0, _world), "MPI_Bcast");
            done += chunk;
        }
    }

    private static void Require(Tensor tensor, ScalarType type)
    {
        if (tensor.dtype != type || tensor.device_type != TorchSharp.DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException($"Open MPI reduces contiguous CPU {type} tensors only; got {tensor.dtype} on {tensor.device_type}.", nameof(tensor));
    }

    private static void Check(int code, string call)
    {
        if (code != 0) throw new SegSharpException($"{call} failed with MPI error {code}.");
    }

    /// <summary>Open MPI reads its settings from the C environment, which .NET's SetEnvironmentVariable does not change.</summary>
    private static void SetDefault(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is null) _ = setenv(Utf8(name), Utf8(value), 0);
    }

    private const int RtldNow = 2, RtldGlobal = 0x100;

    [DllImport("libc")]
    private static extern IntPtr dlopen(byte[] file, int mode);

    [DllImport("libc")]
    private static extern int setenv(byte[] name, byte[] value, int overwrite);

    /// <summary>A NUL-terminated UTF-8 copy for C.</summary>
    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text + "\0");

    [DllImport(Library)]
    private static extern int MPI_Init_thread(IntPtr argc, IntPtr argv, int required, out int provided);

    [DllImport(Library)]
    private static extern int MPI_Comm_rank(IntPtr comm, out int rank);

    [DllImport(Library)]
    private static extern int MPI_Comm_size(IntPtr comm, out int size);

    [DllImport(Library)]
    private static extern int MPI_Get_library_version(byte[] version, out int length);

    [DllImport(Library)]
    private static extern int MPI_Allreduce(IntPtr send, IntPtr receive, int count, IntPtr type, IntPtr op, IntPtr comm);

    [DllImport(Library)]
    private static extern int MPI_Bcast(IntPtr buffer, int count, IntPtr type, int root, IntPtr comm);

    [DllImport(Library)]
    private static extern int MPI_Barrier(IntPtr comm);

    [DllImport(Library)]
    private static extern int MPI_Abort(IntPtr comm, int code);

    [DllImport(Library)]
    private static extern int MPI_Finalize();
}
