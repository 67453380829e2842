using SegSharp.Configuration;
using SegSharp.Training;

namespace SegSharp.Tests.Training;

public class LearningRateScheduleTests
{
    private static ScheduleConfig S(string name, int warmup = 0) =>
        new() { Kind = SegSharp.Foundation.OptionNames<ScheduleKind>.Parse(name, "schedule"), WarmupIterations = warmup, StepSize = 10, Gamma = 0.5,
            Power = 2.0, MinFactor = 0.0 };

    [Fact]
    public void Warmup_rises_linearly_to_the_base_rate()
    {
        Assert.Equal(0.25, LearningRateSchedule.At(S("constant", 4), 1.0, 0, 100), 12);
        Assert.Equal(1.0, LearningRateSchedule.At(S("constant", 4), 1.0, 3, 100), 12);
        Assert.Equal(1.0, LearningRateSchedule.At(S("constant", 4), 1.0, 50, 100), 12);
    }

    [Fact]
    public void Cosine_poly_and_step_follow_their_formulas()
    {
        Assert.Equal(1.0, LearningRateSchedule.At(S("cosine"), 1.0, 0, 100), 12);
        Assert.Equal(0.5, LearningRateSchedule.At(S("cosine"), 1.0, 50, 100), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 0.25)), LearningRateSchedule.At(S("cosine"), 1.0, 25, 100), 12);
        Assert.Equal(Math.Pow(1 - 0.3, 2), LearningRateSchedule.At(S("poly"), 1.0, 30, 100), 12);
        Assert.Equal(0.25, LearningRateSchedule.At(S("step"), 1.0, 25, 100), 12);
        // Decay counts from the end of warm-up: cosine is at its midpoint halfway through what remains.
        Assert.Equal(0.5, LearningRateSchedule.At(S("cosine", 10), 1.0, 55, 100), 12);
    }
}
