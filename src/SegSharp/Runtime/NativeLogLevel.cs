using System.Runtime.InteropServices;

namespace SegSharp.Runtime;

/// <summary>
/// The level below which libtorch's C++ logging (c10's <c>LOG(...)</c>) stays silent. libtorch prints warnings a
/// user did not ask for and reads as errors — "Could not initialize NNPACK! Reason: Unsupported hardware." on
/// CPUs NNPACK does not support, a few times per epoch — and TORCH_CPP_LOG_LEVEL is only read by Python's
/// initialisation. libc10.so exports the flag behind it, <c>FLAGS_caffe2_log_level</c> (an int: 0 info,
/// 1 warning, 2 error, 3 fatal), which SegSharp sets directly.
/// </summary>
internal static class NativeLogLevel
{
    public const int Info = 0, Warning = 1, Error = 2;

    private const string Flag = "FLAGS_caffe2_log_level";

    /// <summary>Sets the level; false when libc10 or the flag cannot be found (logs then stay as libtorch has them).</summary>
    public static unsafe bool TrySet(int level)
    {
        if (!TryFindFlag(out IntPtr flag)) return false;
        *(int*)flag = level;
        return true;
    }

    /// <summary>The current level, or null when the flag cannot be found.</summary>
    public static unsafe int? Current() => TryFindFlag(out IntPtr flag) ? *(int*)flag : null;

    private static bool TryFindFlag(out IntPtr flag)
    {
        flag = IntPtr.Zero;
        return NativeLibraries.TryLoad("c10", out IntPtr library) && NativeLibrary.TryGetExport(library, Flag, out flag);
    }
}
