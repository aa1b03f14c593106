// CDK CLI entry (cdk.json "app"): the stage comes from context, `npx cdk synth -c stage=prod`.
import { buildApp } from '../lib/app';

buildApp().app.synth();
