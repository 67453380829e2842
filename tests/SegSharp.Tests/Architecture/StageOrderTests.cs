using System.Reflection;
using System.Reflection.Emit;

namespace SegSharp.Tests.Architecture;

/// <summary>
/// The library's stages depend one way along the pipeline (docs/architecture.md): a stage may use the stages
/// before it, never one after it. Read from the compiled assembly, method bodies included, so a fully qualified
/// name or a <c>using static</c> cannot slip past.
/// </summary>
public class StageOrderTests
{
    /// <summary>The order, earliest first. Foundation and the root namespace (SegSharpException) sit below all.</summary>
    public static readonly string[] Stages =
    {
        "Foundation", "Runtime", "Configuration", "Data", "Transforms", "Models", "Losses", "Evaluation", "Training", "Tracking", "Inference", "Workflows",
    };

    private static readonly Assembly Library = typeof(SegSharpException).Assembly;

    [Fact]
    public void No_stage_refers_to_a_later_stage()
    {
        var violations = Dependencies()
            .Where(d => Rank(d.To) > Rank(d.From))
            .Select(d => $"{d.FromType} ({Stage(d.From)}) uses {d.ToType} ({Stage(d.To)})")
            .Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.True(violations.Count == 0, "Stage order broken:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Every_namespace_of_the_library_is_a_known_stage()
    {
        var unknown = Library.GetTypes().Select(t => t.Namespace ?? "").Distinct()
            .Where(n => n != "SegSharp" && !n.StartsWith('<') && n.Length > 0 && !Stages.Contains(Stage(n))).ToList();
        Assert.Empty(unknown);
    }

    [Fact]
    public void The_scanner_sees_references_inside_method_bodies()
    {
        // Training calls Evaluation.Validator only inside a method body: if the scanner missed bodies, it would not see it.
        var found = Dependencies().Where(d => Stage(d.From) == "Training" && Stage(d.To) == "Evaluation").Select(d => d.ToType).ToHashSet();
        Assert.Contains("SegSharp.Evaluation.Validator", found);
        // And it ranks stages as documented.
        Assert.True(Rank("SegSharp.Workflows") > Rank("SegSharp.Inference"));
        Assert.True(Rank("SegSharp.Tracking") > Rank("SegSharp.Training") && Rank("SegSharp.Tracking") < Rank("SegSharp.Workflows"));
        Assert.Equal(0, Rank("SegSharp"));
    }

    /// <summary>The root namespace and the classes generated from ONNX's schema (namespace Onnx) count as Foundation.</summary>
    private static string Stage(string ns) => ns is "SegSharp" or "Onnx" ? "Foundation" : ns.Split('.')[1];

    private static int Rank(string ns) => Array.IndexOf(Stages, Stage(ns));

    private sealed record Dependency(string From, string FromType, string To, string ToType);

    private static List<Dependency> Dependencies()
    {
        var result = new List<Dependency>();
        foreach (var type in Library.GetTypes())
        {
            string? from = type.Namespace;
            if (from is null || !from.StartsWith("SegSharp", StringComparison.Ordinal)) continue;
            string fromName = (type.DeclaringType ?? type).FullName ?? type.Name;
            foreach (var used in Referenced(type).SelectMany(Flatten).Where(t => t.Assembly == Library && t.Namespace is not null))
                result.Add(new Dependency(from, fromName, used.Namespace!, (used.DeclaringType ?? used).FullName ?? used.Name));
        }
        return result;
    }

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<Type> Referenced(Type type)
    {
        if (type.BaseType is not null) yield return type.BaseType;
        foreach (var i in type.GetInterfaces()) yield return i;
        foreach (var f in type.GetFields(All)) yield return f.FieldType;
        foreach (var p in type.GetProperties(All)) yield return p.PropertyType;
        foreach (var m in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            if (m is MethodInfo info) yield return info.ReturnType;
            foreach (var p in m.GetParameters()) yield return p.ParameterType;
            foreach (var t in BodyReferences(m)) yield return t;
        }
    }

    /// <summary>
    /// Environment variables are read at the edges: the command line resolves MLflow's into the tracking config
    /// (STYLE.md), and only Runtime reads the variables that describe the process itself (Open MPI's rank and size).
    /// </summary>
    [Fact]
    public void Only_the_runtime_stage_reads_environment_variables()
    {
        var readers = new List<string>();
        foreach (var type in Library.GetTypes())
            foreach (var method in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
                if (BodyMembers(method).Any(m => m is MethodInfo { Name: "GetEnvironmentVariable" } call && call.DeclaringType == typeof(Environment)))
                    readers.Add($"{type.FullName}.{method.Name}");
        Assert.NotEmpty(readers); // the scan works: OpenMpi reads OMPI_COMM_WORLD_RANK
        Assert.All(readers, r => Assert.StartsWith("SegSharp.Runtime.", r, StringComparison.Ordinal));
    }

    /// <summary>The types, methods' declaring types and fields' declaring types that a method body's IL names.</summary>
    private static IEnumerable<Type> BodyReferences(MethodBase method)
    {
        foreach (var member in BodyMembers(method))
        {
            switch (member)
            {
                case Type t:
                    yield return t;
                    break;
                case MethodBase m:
                    if (m.DeclaringType is not null) yield return m.DeclaringType;
                    if (m is MethodInfo { IsGenericMethod: true } g) foreach (var a in g.GetGenericArguments()) yield return a;
                    break;
                case FieldInfo f:
                    if (f.DeclaringType is not null) yield return f.DeclaringType;
                    break;
            }
        }
    }

    /// <summary>The types, methods and fields a method body's IL names.</summary>
    private static IEnumerable<MemberInfo> BodyMembers(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var typeArguments = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int position = 0;
        while (position < il.Length)
        {
            OpCode code = il[position] == 0xFE ? TwoByte[il[position + 1]] : OneByte[il[position]];
            position += code.Size;
            if (code.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                int token = BitConverter.ToInt32(il, position);
                MemberInfo? member = null;
                try
                {
                    member = method.Module.ResolveMember(token, typeArguments, methodArguments);
                }
                catch (ArgumentException)
                {
                }
                if (member is not null) yield return member;
            }
            position += OperandSize(code, il, position);
        }
    }

    private static int OperandSize(OpCode code, byte[] il, int position) => code.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, position),
        _ => 4,
    };

    private static IEnumerable<Type> Flatten(Type type)
    {
        if (type.HasElementType)
        {
            foreach (var t in Flatten(type.GetElementType()!)) yield return t;
            yield break;
        }
        if (type.IsGenericParameter) yield break;
        yield return type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        if (type.IsGenericType)
            foreach (var argument in type.GetGenericArguments())
                foreach (var t in Flatten(argument)) yield return t;
    }

    private static readonly OpCode[] OneByte = new OpCode[256];
    private static readonly OpCode[] TwoByte = new OpCode[256];

#pragma warning disable CA1810 // the opcode tables are filled from reflection once
    static StageOrderTests()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var code = (OpCode)field.GetValue(null)!;
            ushort value = (ushort)code.Value;
            if (code.Size == 1) OneByte[value] = code;
            else TwoByte[value & 0xFF] = code;
        }
    }
#pragma warning restore CA1810
}
