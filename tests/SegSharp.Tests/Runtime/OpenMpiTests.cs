using SegSharp.Runtime;

namespace SegSharp.Tests.Runtime;

public class OpenMpiTests
{
    [Fact]
    public void Without_Open_MPI_the_error_names_the_package_to_install()
    {
        var error = OpenMpi.Missing("libmpi-not-installed.so.40");
        Assert.NotNull(error);
        Assert.Contains("libmpi-not-installed.so.40 was not found", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install openmpi-bin", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void With_Open_MPI_installed_the_library_opens_and_a_process_outside_mpirun_is_a_job_of_one()
    {
        // .ci/run installs openmpi-bin; the binding's handles and calls are exercised by the mpirun tests.
        Assert.Null(OpenMpi.Missing("libmpi.so.40"));
        Assert.False(OpenMpi.Launched);
        Assert.Same(SingleProcess.Instance, Collectives.FromEnvironment());
        Assert.Equal(1, OpenMpi.LocalSize);
    }
}
