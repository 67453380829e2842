using System.Runtime.InteropServices;

namespace SegSharp.Runtime;

/// <summary>
/// Turns on libtorch's deterministic-algorithms flag, which TorchSharp does not expose. libtorch_cpu.so exports
/// the C++ functions behind <c>torch.use_deterministic_algorithms</c>: <c>at::globalContext()</c> and
/// <c>at::Context::setDeterministicAlgorithms(bool, bool)</c>. On x86-64 and AArch64 Linux, a non-virtual member
/// function is called like a free function whose first argument is <c>this</c>, so the flag can be set through
/// function pointers and read back through <c>at::Context::deterministicAlgorithms() const</c> to prove it took.
/// </summary>
internal static class DeterministicMode
{
    private const string GlobalContext = "_ZN2at13globalContextEv";
    private const string SetDeterministic = "_ZN2at7Context26setDeterministicAlgorithmsEbb";
    private const string GetDeterministic = "_ZNK2at7Context23deterministicAlgorithmsEv";

    /// <summary>Sets the flag (warn-only off) and returns what libtorch reports afterwards; false if unavailable.</summary>
    public static unsafe bool TryEnable(bool enabled = true)
    {
        TorchRuntime.EnsureLoaded();
        if (!NativeLibraries.TryLoad("torch_cpu", out IntPtr library)) return false;
        if (!NativeLibrary.TryGetExport(library, GlobalContext, out IntPtr contextFn)
            || !NativeLibrary.TryGetExport(library, SetDeterministic, out IntPtr setFn)
            || !NativeLibrary.TryGetExport(library, GetDeterministic, out IntPtr getFn))
            return false;
        IntPtr context = ((delegate* unmanaged<IntPtr>)contextFn)();
        ((delegate* unmanaged<IntPtr, byte, byte, void>)setFn)(context, enabled ? (byte)1 : (byte)0, 0);
        return ((delegate* unmanaged<IntPtr, byte>)getFn)(context) != 0 == enabled;
    }

    /// <summary>What libtorch currently reports, or null when the export cannot be found.</summary>
    public static unsafe bool? IsEnabled()
    {
        TorchRuntime.EnsureLoaded();
        if (!NativeLibraries.TryLoad("torch_cpu", out IntPtr library)) return null;
        if (!NativeLibrary.TryGetExport(library, GlobalContext, out IntPtr contextFn)
            || !NativeLibrary.TryGetExport(library, GetDeterministic, out IntPtr getFn))
            return null;
        IntPtr context = ((delegate* unmanaged<IntPtr>)contextFn)();
        return ((delegate* unmanaged<IntPtr, byte>)getFn)(context) != 0;
    }

}
