using SegSharp.Configuration;

namespace SegSharp.Training;

/// <summary>
/// The learning rate at optimiser step t of T, a pure function so a resumed run gets exactly the same values:
/// linear warm-up from base/warmup to base over the first W steps, then constant, step (×γ every S steps),
/// polynomial ((1 - t'/T')^p) or cosine (½(1 + cos πt'/T')) decay towards base × min_factor, where t' and T'
/// count from the end of warm-up.
/// </summary>
public static class LearningRateSchedule
{
    public static double At(ScheduleConfig schedule, double baseLR, long step, long totalSteps)
    {
        int warmup = schedule.WarmupIterations;
        if (step < warmup) return baseLR * (step + 1) / warmup;
        long t = step - warmup, span = Math.Max(1, totalSteps - warmup);
        double progress = Math.Clamp((double)t / span, 0, 1);
        double floor = baseLR * schedule.MinFactor;
        return schedule.Kind switch
        {
            ScheduleKind.Constant => baseLR,
            ScheduleKind.Step => baseLR * Math.Pow(schedule.Gamma, t / schedule.StepSize),
            ScheduleKind.Poly => floor + (baseLR - floor) * Math.Pow(1 - progress, schedule.Power),
            ScheduleKind.Cosine => floor + (baseLR - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress)),
        };
    }
}
