using TorchSharp;

namespace SegSharp.Runtime;

/// <summary>
/// Loads libtorch once and reports failures as one actionable line. Threads and determinism are process-wide
/// libtorch settings; they are applied here, from the config, and nowhere else.
/// </summary>
public static class TorchRuntime
{
    /// <summary>
    /// Initialises the CPU backend; throws <see cref="SegSharpException"/> naming what is missing. The first call
    /// also silences libtorch's native warnings unless <see cref="ShowNativeLogs"/> asked for them.
    /// </summary>
    public static void EnsureLoaded()
    {
        try
        {
            PreloadForForeignHost();
            torch.InitializeDeviceType(DeviceType.CPU);
            if (Interlocked.Exchange(ref LogLevelApplied, 1) == 0) NativeLogLevel.TrySet(NativeLogsShown ? NativeLogLevel.Info : NativeLogLevel.Error);
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException)
        {
            throw new SegSharpException(Explain(e));
        }
    }

    /// <summary>
    /// In a host that is not SegSharp's own application (a .NET Interactive notebook that references SegSharp.dll from a
    /// build folder), the host's dependency file knows nothing of libtorch, so TorchSharp would look for its native
    /// bridge beside the host and fail. Loading the build folder's libtorch and its (patched) bridge by path first
    /// makes TorchSharp find them already mapped: the loader matches them by their library names. Other native
    /// libraries of the build folder are resolved from it when the host cannot find them.
    /// </summary>
    private static void PreloadForForeignHost()
    {
        if (Interlocked.Exchange(ref Preloaded, 1) == 1) return;
        string torchFolder = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? "";
        string hostFolder = Path.GetDirectoryName(Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) != "dotnet"
            ? p : System.Reflection.Assembly.GetEntryAssembly()?.Location ?? "") ?? "";
        string native = Path.Combine(torchFolder, "runtimes", "linux-x64", "native");
        if (!OperatingSystem.IsLinux() || torchFolder.Length == 0 || PathsEqual(torchFolder, hostFolder) || !Directory.Exists(native)) return;
        foreach (var pattern in new[] { "libgomp*.so*", "libc10.so", "libtorch_cpu.so", "libtorch.so", "libLibTorchSharp.so" })
            foreach (var file in Directory.EnumerateFiles(native, pattern))
                System.Runtime.InteropServices.NativeLibrary.TryLoad(file, out _);
        // The other native libraries (SkiaSharp's for the charts, ONNX Runtime's) are found there when the host's own probing fails.
        IntPtr Resolve(string name, System.Reflection.Assembly assembly, System.Runtime.InteropServices.DllImportSearchPath? paths)
        {
            foreach (var candidate in new[] { name, $"{name}.so", $"lib{name}.so" })
            {
                string path = Path.Combine(native, candidate);
                if (File.Exists(path) && System.Runtime.InteropServices.NativeLibrary.TryLoad(path, out IntPtr handle)) return handle;
            }
            return IntPtr.Zero;
        }
        void Adopt(System.Reflection.Assembly assembly)
        {
            if (assembly.GetName().Name is not ("SkiaSharp" or "HarfBuzzSharp" or "Microsoft.ML.OnnxRuntime")) return;
            try
            {
                System.Runtime.InteropServices.NativeLibrary.SetDllImportResolver(assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // The assembly resolves its own native library.
            }
        }
        AppDomain.CurrentDomain.AssemblyLoad += (_, e) => Adopt(e.LoadedAssembly);
        foreach (var loaded in AppDomain.CurrentDomain.GetAssemblies()) Adopt(loaded);
    }

    private static bool PathsEqual(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd('/'), Path.GetFullPath(b).TrimEnd('/'), StringComparison.Ordinal);

    private static int Preloaded;

    // libtorch's log level is process-wide native state; these only remember whether it was applied, and how.
    private static int LogLevelApplied;
    private static bool NativeLogsShown;

    /// <summary>
    /// Lets libtorch's native log lines (warnings and info) through, e.g. for <c>--verbose</c>. Process-wide, like
    /// every libtorch setting; call before the first use of libtorch, or it applies from this call on.
    /// </summary>
    public static void ShowNativeLogs()
    {
        NativeLogsShown = true;
        if (Volatile.Read(ref LogLevelApplied) == 1) NativeLogLevel.TrySet(NativeLogLevel.Info);
    }

    /// <summary>libtorch's version string, e.g. "2.10.0".</summary>
    public static string LibTorchVersion
    {
        get
        {
            EnsureLoaded();
            return torch.__version__;
        }
    }

    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "unknown";

    /// <summary>Sets intra-op threads; 0 keeps libtorch's choice (one per core).</summary>
    public static int ConfigureThreads(int threads)
    {
        EnsureLoaded();
        if (threads > 0) torch.set_num_threads(threads);
        return torch.get_num_threads();
    }

    private static string Explain(Exception e)
    {
        string detail = e.InnerException?.Message ?? e.Message;
        if (detail.Contains("GLIBCXX", StringComparison.Ordinal) || detail.Contains("LibTorchSharp", StringComparison.Ordinal))
        {
            return "libtorch could not be loaded: the native bridge libLibTorchSharp.so did not load (often the system " +
                   "libstdc++ lacks GLIBCXX_3.4.32). Rebuild with 'dotnet build' so the build can patch the copy in the " +
                   "output folder (docs/native-runtime.md), or install libstdc++ from GCC 13 or newer.";
        }
        string firstLine = detail.Split('\n')[0].Trim();
        return $"libtorch could not be loaded: {firstLine}. Rebuild with 'dotnet build' and see docs/native-runtime.md.";
    }
}
