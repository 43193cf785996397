package org.alphawatch.cli;

import java.io.PrintWriter;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.core.spectrum.EigenSolvers;
import org.alphawatch.io.NpyFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ./alphawatch}. */
@Command(name = "alphawatch", mixinStandardHelpOptions = true, version = "alphawatch 0.1.0",
        description = "Watches the eigenspectrum (power-law exponent alpha) of a network's activations.",
        subcommands = {DemoCommand.class, AnalyzeCommand.class, ServeCommand.class, BenchCommand.class,
            LoadtestCommand.class, BrokerCommand.class, KafkaResetCommand.class})
public final class Main implements Runnable {
    @Override
    public void run() {
        // Unreachable: no arguments run the demo (see run(String[], ...)).
        throw new CommandLine.ParameterException(new CommandLine(this), "give a command (see --help)");
    }

    /** Runs a command line and returns the exit status (tests call this instead of {@link #main}). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = commandLine();
        if (args.length == 0) {
            args = new String[] {"demo"}; // the embedded default: the built-in demo
        }
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        EigenSolver solver = EigenSolvers.selected();
        CommandLine cl = new CommandLine(new Main(), new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (cls == AnalyzeCommand.class) {
                    return cls.cast(new AnalyzeCommand(solver));
                }
                if (cls == DemoCommand.class) {
                    return cls.cast(new DemoCommand(solver));
                }
                if (cls == ServeCommand.class) {
                    return cls.cast(new ServeCommand(solver));
                }
                if (cls == LoadtestCommand.class) {
                    return cls.cast(new LoadtestCommand(solver));
                }
                if (cls == BenchCommand.class) {
                    return cls.cast(new BenchCommand(solver));
                }
                return CommandLine.defaultFactory().create(cls);
            }
        });
        ServeCommand.addSettingOptions(cl.getSubcommands().get("serve").getCommandSpec());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            String name = commandLine.getCommandSpec().qualifiedName();
            if (ex instanceof UserInputException || ex instanceof NpyFormatException) {
                err.println(name + ": " + ex.getMessage());
                err.flush();
                return ExitCodes.BAD_INPUT;
            }
            err.println(name + ": internal error: " + ex);
            ex.printStackTrace(err);
            err.flush();
            return ExitCodes.FAILURE;
        });
        return cl;
    }

    public static void main(String[] args) {
        int status = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(status);
    }
}
