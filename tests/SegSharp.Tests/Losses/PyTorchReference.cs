using System.Globalization;

namespace SegSharp.Tests.Losses;

/// <summary>
/// Losses computed by Debian's PyTorch in float64 for comparison: the caller's script reads its inputs from the folder and
/// defines <c>x0</c> (the logits) and <c>cases</c> (name → loss function of the logits); this runs each case with autograd
/// and returns every case's value and gradient with respect to the logits.
/// </summary>
public static class PyTorchReference
{
    public static Dictionary<string, (double Value, double[] Gradient)> ValuesAndGradients(string folder, string script)
    {
        Prerequisite.PythonModules("python3-torch", "torch");
        string run = script.TrimEnd() + """

            for name, f in cases.items():
                x = x0.clone().requires_grad_(True)
                value = f(x); value.backward()
                print(name, repr(value.item()), ' '.join(repr(g) for g in x.grad.flatten().tolist()))
            """;
        var lines = ChildProcess.Run(Prerequisite.Python, folder, null, "-c", run).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        static double Number(string v) => double.Parse(v, CultureInfo.InvariantCulture);
        return lines.Select(line => line.Split(' ')).ToDictionary(parts => parts[0], parts => (Number(parts[1]), parts[2..].Select(Number).ToArray()));
    }
}
