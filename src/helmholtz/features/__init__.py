"""The features stage: log-mel spectrograms, the audio classifier's input (`mel`; torch, imported lazily). It may
import the shared base and the stages before it (data, synth, codecs); nothing later.
"""
