/** The scripted model lives with the testing harness (src/testing/), which ships it to workflow authors. */
export * from '../../src/testing/scriptedModel.js';
