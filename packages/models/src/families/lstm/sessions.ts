// The onnxruntime sessions of the LSTM family, one per graph shape and kept for the life of the thread: a
// session's build and its first run (when onnxruntime plans its memory) cost as much as many later calls, and
// trainMany fits batch after batch of the same shapes. CPU, one thread: a Loom task thread is one core.
import { createSession, type LoadedSession } from '@loom/ml';
import { buildInferenceModel, buildTrainingModel, type TrainingModel, type TrainingShape } from './graphs.js';

export interface TrainingSession extends LoadedSession {
  readonly graph: TrainingModel;
}

const trainingSessions = new Map<string, Promise<TrainingSession>>();
const inferenceSessions = new Map<string, Promise<LoadedSession>>();

export function trainingSession(shape: TrainingShape): Promise<TrainingSession> {
  const key = `${shape.models}x${shape.rows}x${shape.window}x${shape.hidden}`;
  let found = trainingSessions.get(key);
  if (found === undefined) {
    const graph = buildTrainingModel(shape);
    found = createSession(graph.model, { provider: 'cpu', threads: 1 }).then((loaded) => ({ ...loaded, graph }));
    trainingSessions.set(key, found);
    found.catch(() => trainingSessions.delete(key));
  }
  return found;
}

export function inferenceSession(window: number, hidden: number): Promise<LoadedSession> {
  const key = `${window}x${hidden}`;
  let found = inferenceSessions.get(key);
  if (found === undefined) {
    found = createSession(buildInferenceModel(window, hidden), { provider: 'cpu', threads: 1 });
    inferenceSessions.set(key, found);
    found.catch(() => inferenceSessions.delete(key));
  }
  return found;
}
