// NATS JetStream subjects of the pipeline events; one stream captures `paddock.>`.
export const subjects = {
  pipelineRequested: 'paddock.pipeline.requested',
  datasetIngested: 'paddock.dataset.ingested',
  trainingProgress: 'paddock.training.progress',
  modelExported: 'paddock.model.exported',
  evaluationCompleted: 'paddock.evaluation.completed',
  submissionCreated: 'paddock.submission.created',
  stageFailed: 'paddock.stage.failed',
} as const;

export type Subject = (typeof subjects)[keyof typeof subjects];
