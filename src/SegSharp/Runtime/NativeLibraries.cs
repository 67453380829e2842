using System.Runtime.InteropServices;
using TorchSharp;

namespace SegSharp.Runtime;

/// <summary>Finds libtorch's native libraries (libtorch_cpu, libc10) that TorchSharp has already mapped, to reach exports it does not wrap.</summary>
internal static class NativeLibraries
{
    /// <param name="name">The library's short name, e.g. "torch_cpu" or "c10".</param>
    public static bool TryLoad(string name, out IntPtr handle)
    {
        // Already mapped by TorchSharp; loading it again returns the same handle.
        var torchAssembly = typeof(torch).Assembly;
        if (NativeLibrary.TryLoad(name, torchAssembly, DllImportSearchPath.AssemblyDirectory | DllImportSearchPath.SafeDirectories, out handle))
            return true;
        string baseDir = Path.GetDirectoryName(torchAssembly.Location) ?? AppContext.BaseDirectory;
        string file = $"lib{name}.so";
        foreach (var candidate in new[]
                 {
                     Path.Combine(baseDir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", file),
                     Path.Combine(baseDir, "runtimes", "linux-x64", "native", file),
                     Path.Combine(baseDir, file),
                     Path.Combine(baseDir, "cpu", file),
                 })
        {
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out handle)) return true;
        }
        handle = IntPtr.Zero;
        return false;
    }
}
