using SegSharp.Runtime;

namespace SegSharp.Tests.Runtime;

public class NativeLogLevelTests
{
    [Fact]
    public void Loading_libtorch_raises_its_log_level_to_errors_only()
    {
        TorchRuntime.EnsureLoaded();
        Assert.Equal(NativeLogLevel.Error, NativeLogLevel.Current());
    }
}
